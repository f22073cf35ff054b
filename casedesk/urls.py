from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from casedesk.mail import views as mail_views
from casedesk.ops import health, metrics
from casedesk.web import sheetpages, views

# a database that cannot be reached is a 503 with a code, any other fault the 500 page
handler500 = "casedesk.web.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("health", views.health, name="health"),
    path("ready", health.ready, name="ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.language_switch, name="language"),
    path("account/time-zone/", views.time_zone, name="time-zone"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="web/password_reset_sent.html"),
        name="password_reset_sent",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="web/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("files/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("tickets/<str:key>/", views.ticket, name="ticket"),
    path("tickets/<str:key>/sheet/", sheetpages.sheet_print, name="sheet-print"),
    path("tickets/<str:key>/sheet/pdf/<int:cycle>/", sheetpages.sheet_pdf, name="sheet-pdf"),
    path("portal/", include("casedesk.portal.urls")),
    path("agent/", include("casedesk.agent.urls")),
    # the admin logs in through the same (throttled) page
    path("admin/login/", views.LoginView.as_view(), name="admin_login"),
    path("admin/", admin.site.urls),
    path("mail/preferences/", mail_views.preferences, name="mail-preferences"),
    path("mail/problems/", mail_views.problems, name="mail-problems"),
    path(
        "mail/problems/<str:kind>/<int:mail_id>/<str:action>/",
        mail_views.problem_act,
        name="mail-problem-act",
    ),
    path("", include("casedesk.api.urls")),
]
