from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from casedesk.mail import views as mail_views
from casedesk.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health", views.health, name="health"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("mail/preferences/", mail_views.preferences, name="mail-preferences"),
    path("mail/problems/", mail_views.problems, name="mail-problems"),
    path(
        "mail/problems/<str:kind>/<int:mail_id>/<str:action>/",
        mail_views.problem_act,
        name="mail-problem-act",
    ),
]
