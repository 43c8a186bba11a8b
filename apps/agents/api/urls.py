from django.urls import path

from apps.agents.api import views

urlpatterns = [
    path("agents/", views.AgentListApi.as_view(), name="api-agent-list"),
    path("agents/<hex:agent_id>/", views.AgentDetailApi.as_view(), name="api-agent-detail"),
    path("agents/<hex:agent_id>/stats/", views.AgentStatsApi.as_view(), name="api-agent-stats"),
]
