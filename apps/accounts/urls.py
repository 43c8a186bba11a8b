from django.contrib.auth import views as auth_views
from django.urls import path

from apps.accounts.forms import ThrottledLoginForm
from apps.accounts.views import LoginView

app_name = "accounts"

urlpatterns = [
    path(
        "login/",
        LoginView.as_view(template_name="accounts/login.html", authentication_form=ThrottledLoginForm),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
