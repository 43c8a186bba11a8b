from django import forms

from apps.common.json_input import BoundedJSONFormField
from apps.common.units import MAX_CORES, MAX_GPUS, MAX_MEMORY, MIB
from apps.images.choices import CpuAllocationMethod, StreamProtocol


class RegistryAddForm(forms.Form):
    url = forms.CharField(
        label="Registry URL", max_length=2000, widget=forms.TextInput(attrs={"placeholder": "https://…/kasm-registry/"})
    )


class WorkspaceDefinitionForm(forms.Form):
    """The full definition of a registry workspace, for review and change before installing."""

    name = forms.CharField(label="Docker image", max_length=255)
    friendly_name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    categories = forms.CharField(required=False, max_length=1000, help_text="Comma-separated.")
    cores = forms.FloatField(min_value=0.1, max_value=MAX_CORES)
    memory = forms.IntegerField(label="Memory (MB)", min_value=64, max_value=MAX_MEMORY // MIB)
    gpu_count = forms.IntegerField(label="GPUs", min_value=0, max_value=MAX_GPUS)
    cpu_allocation_method = forms.ChoiceField(choices=[(m.kasm_name, m.kasm_name) for m in CpuAllocationMethod])
    stream_protocol = forms.ChoiceField(choices=StreamProtocol.choices)
    run_config = BoundedJSONFormField(
        label="Docker run config override (JSON)", required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    exec_config = BoundedJSONFormField(
        label="Docker exec config (JSON)", required=False, widget=forms.Textarea(attrs={"rows": 8})
    )
    reviewed = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    confirm_flags = forms.BooleanField(
        required=False, label="I reviewed the flagged configuration and want to install it as it is."
    )

    @classmethod
    def initial_from(cls, definition: dict) -> dict:
        return {
            **definition,
            "categories": ", ".join(definition.get("categories", [])),
            "cores": definition.get("cores") or 1,
            "memory": definition.get("memory") or 1024,
            "gpu_count": definition.get("gpu_count") or 0,
        }

    def definition_over(self, definition: dict) -> dict:
        """The registry's definition with the admin's changes applied."""
        data = {key: value for key, value in self.cleaned_data.items() if key not in ("confirm_flags", "reviewed")}
        data["categories"] = [part.strip() for part in data["categories"].split(",") if part.strip()]
        data["run_config"] = data["run_config"] or {}
        data["exec_config"] = data["exec_config"] or {}
        return {**definition, **data}
