from django.urls import path

from apps.sessions import views

urlpatterns = [
    path("", views.workspaces, name="home"),
]
