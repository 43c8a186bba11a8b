from django.urls import path

from apps.sessions.api import views

urlpatterns = [
    path("sessions/", views.SessionListApi.as_view(), name="api-session-list"),
    path("sessions/<hex:kasm_id>/", views.SessionDetailApi.as_view(), name="api-session-detail"),
]
