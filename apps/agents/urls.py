from django.urls import path

from apps.agents import views

app_name = "agents"

urlpatterns = [
    path("agents/", views.agent_list, name="list"),
    path("agents/<hex:agent_id>/", views.agent_detail, name="detail"),
    path("agents/<hex:agent_id>/images/retry/", views.agent_image_retry_view, name="image-retry"),
    path("agents/<hex:agent_id>/approve/", views.agent_approve_view, name="approve"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("zones/", views.zone_list, name="zones"),
    path("zones/<hex:zone_id>/", views.zone_edit, name="zone-edit"),
    path("zones/<hex:zone_id>/delete/", views.zone_delete_view, name="zone-delete"),
    path("manager-token/", views.manager_token_page, name="manager-token"),
    path("manager-token/rotate/", views.manager_token_rotate_view, name="rotate-token"),
]
