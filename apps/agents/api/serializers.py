from rest_framework import serializers

from apps.agents.choices import PruneMode
from apps.agents.models import AgentImage, Gpu
from apps.common.units import MAX_CORES, MAX_GPUS, MAX_MEMORY


class GpuOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Gpu
        fields = ["index", "uuid", "name", "memory_total", "memory_used", "temperature_c", "utilization_percent"]


class AgentImageOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgentImage
        fields = ["reference", "status", "error", "failed_attempts", "checked_at"]


class AgentSettingsInputSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    cores_override = serializers.FloatField(min_value=0, max_value=MAX_CORES)
    memory_override = serializers.IntegerField(min_value=0, max_value=MAX_MEMORY)
    gpus_override = serializers.IntegerField(min_value=0, max_value=MAX_GPUS)
    prune_mode = serializers.ChoiceField(choices=PruneMode.choices)
    zone = serializers.CharField(allow_blank=True, allow_null=True, required=False, max_length=100)
