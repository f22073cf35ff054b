from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from casedesk.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health", views.health, name="health"),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("casedesk.api.urls")),
]
