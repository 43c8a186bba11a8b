from django import forms

from apps.agents.models import Agent, Zone


class AgentSettingsForm(forms.ModelForm):
    """The admin's settings of an agent; saving goes through services.agent_update_settings."""

    class Meta:
        model = Agent
        fields = ["enabled", "zone", "address", "cores_override", "memory_override", "gpus_override", "prune_mode"]
        labels = {
            "enabled": "Enabled (unchecked: drain, no new sessions)",
            "address": "Address the manager reaches it at (the agent cannot change it)",
            "cores_override": "Cores override (0 = actual cores)",
            "memory_override": "Memory override in bytes (0 = actual memory)",
            "gpus_override": "GPUs override (0 = actual GPUs)",
        }
        widgets = {"cores_override": forms.NumberInput(attrs={"step": "0.5", "min": "0"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address"].required = False  # left empty: the address stays as it is


class ZoneForm(forms.ModelForm):
    class Meta:
        model = Zone
        fields = ["name", "description", "placement_policy"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
