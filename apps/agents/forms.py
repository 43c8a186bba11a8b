from django import forms

from apps.agents.models import Agent, Zone
from apps.common.units import MAX_MEMORY, MIB


class AgentSettingsForm(forms.ModelForm):
    """The admin's settings of an agent; saving goes through services.agent_update_settings."""

    class Meta:
        model = Agent
        fields = ["enabled", "zone", "address", "cores_override", "memory_override", "gpus_override", "prune_mode"]
        labels = {
            "enabled": "Enabled: takes new sessions",
            "address": "Address the manager reaches it at (the agent cannot change it)",
            "cores_override": "Cores override (0 = actual cores)",
            "memory_override": "Memory override in MB (0 = actual memory)",
            "gpus_override": "GPUs override (0 = actual GPUs)",
        }
        help_texts = {"enabled": "Unchecked, the agent drains: its sessions keep running, new ones go to other agents."}
        widgets = {"cores_override": forms.NumberInput(attrs={"step": "0.5", "min": "0"})}

    memory_override = forms.IntegerField(min_value=0, max_value=MAX_MEMORY // MIB)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address"].required = False  # left empty: the address stays as it is
        self.fields["memory_override"].label = self._meta.labels["memory_override"]
        self.fields["zone"].help_text = "Zones are made on the Zones page (Console → Agents, their zones)."
        if self.instance.pk and not self.is_bound:
            self.initial["memory_override"] = self.instance.memory_override // MIB

    def clean_memory_override(self) -> int:
        return self.cleaned_data["memory_override"] * MIB


class ZoneForm(forms.ModelForm):
    class Meta:
        model = Zone
        fields = ["name", "description", "placement_policy"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
