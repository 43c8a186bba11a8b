from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsConsoleAdmin
from apps.agents.api.serializers import (
    AgentImageOutputSerializer,
    AgentSettingsInputSerializer,
    GpuOutputSerializer,
)
from apps.agents.models import Agent, Zone
from apps.agents.selectors import agent_stat_series, agent_usage, agents_page
from apps.agents.services import agent_update_settings
from apps.common.errors import ApplicationError

MAX_HISTORY_HOURS = 24 * 31


class AgentListApi(APIView):
    """A page of agents with their CPU and memory bars (used, allocated, capacity): `?page=N`
    (100 each, by hostname), `?q=` (in the hostname or address), `?status=`."""

    permission_classes = [IsConsoleAdmin]

    @extend_schema(
        operation_id="console_agents_list",
        parameters=[OpenApiParameter("page", int), OpenApiParameter("q", str), OpenApiParameter("status", str)],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        params = request.query_params
        page = agents_page(number=params.get("page"), search=params.get("q", ""), status=params.get("status", ""))
        return Response([agent_usage(agent).as_dict() for agent in page])


class AgentDetailApi(APIView):
    permission_classes = [IsConsoleAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, agent_id):
        agent = get_object_or_404(Agent.objects.select_related("zone"), pk=agent_id)
        return Response(
            {
                **agent_usage(agent).as_dict(),
                "gpu_devices": GpuOutputSerializer(agent.gpu_devices.all(), many=True).data,
                "images": AgentImageOutputSerializer(agent.image_states.all(), many=True).data,
            }
        )

    @extend_schema(request=AgentSettingsInputSerializer, responses=OpenApiTypes.OBJECT)
    def patch(self, request, agent_id):
        agent = get_object_or_404(Agent, pk=agent_id)
        serializer = AgentSettingsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        zone_name = values.pop("zone", None)
        zone = get_object_or_404(Zone, name=zone_name) if zone_name else None
        try:
            agent_update_settings(agent=agent, zone=zone, **values)
        except ApplicationError as error:
            return Response({"error_message": error.message}, status=400)
        return self.get(request, agent_id)


class AgentStatsApi(APIView):
    """History for the dashboard: `?hours=N` (default 24, at most a month)."""

    permission_classes = [IsConsoleAdmin]

    @extend_schema(parameters=[OpenApiParameter("hours", int)], responses=OpenApiTypes.OBJECT)
    def get(self, request, agent_id):
        agent = get_object_or_404(Agent, pk=agent_id)
        try:
            hours = min(max(int(request.query_params.get("hours", 24)), 1), MAX_HISTORY_HOURS)
        except ValueError:
            return Response({"error_message": "hours must be a whole number of hours."}, status=400)
        return Response(agent_stat_series(agent, since=timezone.now() - timedelta(hours=hours)))
