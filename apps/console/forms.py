"""Forms of the console and the profile page; each maps onto one service call."""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings
from django.contrib.auth.models import Group

from apps.accounts.choices import ApiPermission
from apps.accounts.group_settings import GROUP_SETTINGS, group_setting_defaults
from apps.accounts.models import GroupPolicy, Profile
from apps.accounts.selectors import ALL_USERS_GROUP
from apps.common.errors import InvalidInput
from apps.common.json_input import BoundedJSONFormField
from apps.common.runtime_settings import RUNTIME_SETTINGS
from apps.common.units import MAX_MEMORY, MIB
from apps.common.volumes import mappings_checked, template_problems
from apps.images.icons import ACCEPTED
from apps.images.models import Image
from apps.images.selectors import images_for_console
from apps.images.services import MAX_ICON_BYTES
from apps.sessions.container_environment import container_environment, profile_environment_checked

THEMES = [("Light", "Light"), ("Dark", "Dark")]
MAPPINGS_HELP = (
    "Host paths must lie under the roots in VOLUME_HOST_ROOTS "
    f"({', '.join(settings.VOLUME_HOST_ROOTS) or 'none set: named volumes only'}); each agent checks them too."
)


def _other_groups():
    return Group.objects.exclude(name=ALL_USERS_GROUP).order_by("name")


class UserForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(max_length=254, required=False)
    organization = forms.CharField(max_length=200, required=False)
    phone = forms.CharField(max_length=50, required=False)
    groups = forms.ModelMultipleChoiceField(
        queryset=_other_groups(), required=False, widget=forms.CheckboxSelectMultiple, help_text="All Users always."
    )
    locked = forms.BooleanField(required=False, help_text="A locked user cannot log in or launch sessions.")
    disabled = forms.BooleanField(required=False, help_text="A disabled account cannot log in at all.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["groups"].queryset = _other_groups()

    def profile_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields if name not in ("groups", "username", "password")}


class UserCreateForm(UserForm):
    username = forms.CharField(max_length=150, help_text="A username or an e-mail address.")
    password = forms.CharField(
        widget=forms.PasswordInput, required=False, help_text="Leave empty to generate one; it is shown once."
    )
    field_order = ["username", "password"]


class PasswordResetForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput, required=False, help_text="Leave empty to generate one; it is shown once."
    )


class GroupForm(forms.Form):
    name = forms.CharField(max_length=150)
    priority = forms.IntegerField(
        min_value=1, max_value=100000, initial=100, help_text=GroupPolicy._meta.get_field("priority").help_text
    )
    description = forms.CharField(max_length=500, required=False)
    volume_mappings = BoundedJSONFormField(
        label="Volume mappings (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=GroupPolicy._meta.get_field("volume_mappings").help_text + " " + MAPPINGS_HELP,
    )

    def clean_volume_mappings(self) -> list[dict]:
        return _checked(mappings_checked, self.cleaned_data["volume_mappings"])


class GroupAccessForm(forms.Form):
    """What the group's members may launch, and the settings it sets (unset ones fall through)."""

    all_workspaces = forms.BooleanField(required=False, help_text="Members may launch every enabled workspace.")
    workspaces = forms.ModelMultipleChoiceField(
        queryset=images_for_console(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, settings: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        settings = settings or {}
        self.fields["workspaces"].queryset = images_for_console()
        defaults = group_setting_defaults()
        for setting in GROUP_SETTINGS:
            self.fields[f"set_{setting.name}"] = forms.BooleanField(
                required=False, initial=setting.name in settings, label=f"Set {setting.label.lower()}"
            )
            self.fields[setting.name] = _setting_field(setting, settings.get(setting.name, defaults[setting.name]))

    def setting_rows(self):
        return [(setting, self[f"set_{setting.name}"], self[setting.name]) for setting in GROUP_SETTINGS]

    def settings(self) -> dict:
        values = {}
        for setting in GROUP_SETTINGS:
            if self.cleaned_data[f"set_{setting.name}"]:
                value = self.cleaned_data[setting.name]
                if value in (None, ""):
                    raise InvalidInput(f"'{setting.label}' is ticked but has no value.")
                values[setting.name] = value * setting.form_scale if setting.form_scale != 1 else value
        return values


def _setting_field(setting, value) -> forms.Field:
    common = {"required": False, "label": setting.label, "help_text": setting.help}
    if setting.kind is bool:
        return forms.BooleanField(initial=value, **common)
    if setting.kind is uuid.UUID:
        choices = [("", "(none)")] + [(image.hex_id, image.friendly_name) for image in images_for_console()]
        return forms.ChoiceField(choices=choices, initial=value or "", **common)
    shown = value // setting.form_scale if value and setting.form_scale != 1 else value
    if setting.kind is int:
        maximum = int(setting.maximum // setting.form_scale) if setting.maximum else None
        return forms.IntegerField(initial=shown, min_value=int(setting.minimum), max_value=maximum, **common)
    return forms.FloatField(initial=shown, min_value=setting.minimum, max_value=setting.maximum or None, **common)


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=150)


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100)
    permissions = forms.MultipleChoiceField(
        choices=ApiPermission.choices, widget=forms.CheckboxSelectMultiple, help_text="Global admin may do all."
    )
    owner = forms.CharField(
        max_length=150, required=False, help_text="A username: the key then acts only as this user, on their sessions."
    )
    expires_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), help_text="Empty: never."
    )


class AuditFilterForm(forms.Form):
    actor = forms.CharField(max_length=150, required=False)
    action = forms.CharField(max_length=64, required=False)
    target = forms.CharField(max_length=300, required=False)


class ProfileForm(forms.ModelForm):
    """A user's own settings for new sessions."""

    theme = forms.ChoiceField(choices=THEMES)
    environment_text = forms.CharField(
        label="Extra environment variables",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=64 * 1024,
        help_text="One NAME=value per line; they reach your new sessions.",
    )
    default_image = forms.ChoiceField(label="Default workspace", required=False)

    class Meta:
        model = Profile
        fields = ["language", "timezone", "theme"]

    def __init__(self, *args, launchable=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_image"].choices = [("", "(my groups' default)")] + [
            (image.hex_id, image.friendly_name) for image in launchable
        ]
        self.fields["default_image"].initial = self.instance.default_image.hex if self.instance.default_image else ""
        lines = [f"{name}={value}" for name, value in (self.instance.environment or {}).items()]
        self.fields["environment_text"].initial = "\n".join(lines)

    def clean(self):
        cleaned = super().clean()
        try:
            container_environment(
                profile_environment={},
                requested={},
                language=cleaned.get("language", ""),
                timezone_name=cleaned.get("timezone", ""),
            )
        except InvalidInput as error:
            raise forms.ValidationError(error.message) from None
        return cleaned

    def clean_environment_text(self) -> dict:
        environment = {}
        for number, line in enumerate(self.cleaned_data["environment_text"].splitlines(), start=1):
            if not line.strip():
                continue
            name, separator, value = line.partition("=")
            if not separator:
                raise forms.ValidationError(f"Line {number} has no '=': write NAME=value.")
            environment[name.strip()] = value
        try:
            return profile_environment_checked(environment)
        except InvalidInput as error:
            raise forms.ValidationError(error.message) from None

    def save(self, commit=True):
        profile = super().save(commit=False)
        profile.environment = self.cleaned_data["environment_text"]
        profile.default_image = (
            uuid.UUID(self.cleaned_data["default_image"]) if self.cleaned_data["default_image"] else None
        )
        if commit:
            profile.save()
        return profile


class WorkspaceForm(forms.ModelForm):
    """Every field of a workspace, memory in MB; the icon an uploaded raster image."""

    categories = forms.CharField(required=False, max_length=1000, help_text="Comma-separated, e.g. Browser, Office.")
    memory = forms.IntegerField(
        label="Memory (MB)", min_value=64, max_value=MAX_MEMORY // MIB, help_text="The container's memory limit."
    )
    icon_upload = forms.FileField(required=False, label="Icon", help_text=f"{ACCEPTED}, at most 1 MB.")
    volume_mappings = BoundedJSONFormField(
        label="Volume mappings (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=Image._meta.get_field("volume_mappings").help_text + " " + MAPPINGS_HELP,
    )
    run_config = BoundedJSONFormField(
        label="Docker run config (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Options merged over the platform's safe defaults; flagged at the top when they weaken them.",
    )
    exec_config = BoundedJSONFormField(
        label="Docker exec config (JSON)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Commands run in the session: first_launch, go, assign.",
    )

    class Meta:
        model = Image
        fields = [
            "friendly_name",
            "docker_image",
            "description",
            "categories",
            "cores",
            "memory",
            "gpus",
            "cpu_allocation_method",
            "stream_protocol",
            "restrict_to_zone",
            "restrict_to_agent",
            "network",
            "persistent_profile_path",
            "volume_mappings",
            "desktop_resolution",
            "icon_url",
            "run_config",
            "exec_config",
            "enabled",
        ]
        labels = {"gpus": "GPUs", "cpu_allocation_method": "CPU allocation method", "icon_url": "Icon URL"}
        help_texts = {
            "cpu_allocation_method": "How the cores above limit the container when the host is busy.",
            "gpus": "GPUs reserved for each session (the agent must have them free).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["memory"] = self.instance.memory // MIB
            self.initial["categories"] = ", ".join(self.instance.categories)
        for name in ("run_config", "exec_config"):
            self.fields[name].initial = self.fields[name].initial or {}

    def clean_memory(self) -> int:
        return self.cleaned_data["memory"] * MIB

    def clean_categories(self) -> list[str]:
        return [name.strip()[:50] for name in self.cleaned_data["categories"].split(",") if name.strip()][:20]

    def clean_persistent_profile_path(self) -> str:
        template = self.cleaned_data["persistent_profile_path"].strip()
        problems = template_problems(template, per_user=True, host_roots=settings.VOLUME_HOST_ROOTS) if template else []
        if problems:
            raise forms.ValidationError(" ".join(problems))
        return template

    def clean_volume_mappings(self) -> list[dict]:
        return _checked(mappings_checked, self.cleaned_data["volume_mappings"])

    def clean_run_config(self) -> dict:
        return _json_object(self.cleaned_data["run_config"], "run config")

    def clean_exec_config(self) -> dict:
        return _json_object(self.cleaned_data["exec_config"], "exec config")

    def icon_bytes(self) -> bytes | None:
        upload = self.cleaned_data.get("icon_upload")
        return upload.read(MAX_ICON_BYTES + 1) if upload else None


def _checked(check, value):
    try:
        return check(value, host_roots=settings.VOLUME_HOST_ROOTS)
    except InvalidInput as error:
        raise forms.ValidationError(error.message) from None


def _json_object(value, label: str) -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise forms.ValidationError(f'The {label} is a JSON object, like {{"shm_size": "1g"}}.')
    return value


class RuntimeSettingsForm(forms.Form):
    """One whole-number field per runtime setting, bounded as the setting is."""

    def __init__(self, *args, current: dict[str, int], **kwargs):
        super().__init__(*args, initial=current, **kwargs)
        for spec in RUNTIME_SETTINGS:
            self.fields[spec.name] = forms.IntegerField(
                label=spec.label,
                min_value=spec.minimum,
                max_value=spec.maximum,
                help_text=f"{spec.help} Environment: {spec.initial}.",
            )

    def sections(self) -> list[tuple[str, list]]:
        """The bound fields grouped by the settings' sections, in their order."""
        grouped: dict[str, list] = {}
        for spec in RUNTIME_SETTINGS:
            grouped.setdefault(spec.section, []).append(self[spec.name])
        return list(grouped.items())
