from rest_framework import serializers

from apps.sessions.choices import SessionStatus
from apps.sessions.models import Session


class SessionOutputSerializer(serializers.ModelSerializer):
    kasm_id = serializers.CharField(source="hex_id")
    owner = serializers.CharField(source="owner.username")
    image = serializers.CharField(source="image.friendly_name")
    agent = serializers.CharField(source="agent.hostname", allow_null=True)

    class Meta:
        model = Session
        fields = [
            "kasm_id",
            "owner",
            "image",
            "agent",
            "status",
            "status_message",
            "reserved_cores",
            "reserved_memory",
            "reserved_gpus",
            "created_at",
            "started_at",
            "keepalive_at",
            "expires_at",
        ]


class SessionFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SessionStatus.choices, required=False)
    agent = serializers.CharField(required=False)
    owner = serializers.CharField(required=False)
    page = serializers.IntegerField(min_value=1, required=False, help_text="100 sessions a page, newest first.")
