from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from apps.accounts.choices import ApiPermission
from apps.accounts.models import ApiKey, AuditEvent, GroupPolicy, Profile, WebLogin
from apps.accounts.services import api_key_create, user_delete


@admin.register(WebLogin)
class WebLoginAdmin(admin.ModelAdmin):
    """Who is logged in until when; read only, and never showing a session key (each is a login).
    Log a user out everywhere from the console's Users page."""

    list_display = ["user_id", "expire_date"]
    list_display_links = None
    actions = None
    ordering = ["-expire_date"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "language", "timezone"]
    search_fields = ["user__username", "user__email"]
    list_filter = ["timezone"]


class ApiKeyCreateForm(forms.ModelForm):
    """Adding a key makes its secret (api_key_create) and shows it once; nothing else sets one."""

    permissions = forms.MultipleChoiceField(choices=ApiPermission.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ["name", "owner", "permissions", "expires_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "owner", "enabled", "expires_at", "last_used_at"]
    list_filter = ["enabled", "expires_at"]
    search_fields = ["name", "key", "owner__username"]
    # The secret's hash is never shown or edited: a new secret means a new key.
    exclude = ["secret_hash"]
    readonly_fields = ["key", "last_used_at"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyCreateForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_exclude(self, request, obj=None):
        return ["secret_hash", "key", "enabled", "last_used_at"] if obj is None else self.exclude

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        issued = api_key_create(
            name=data["name"], owner=data["owner"], permissions=data["permissions"], expires_at=data["expires_at"]
        )
        obj.pk, obj.key = issued.api_key.pk, issued.api_key.key
        obj._state.adding, obj._state.db = False, issued.api_key._state.db
        messages.warning(
            request, f"Key {issued.api_key.key}, secret {issued.secret}: copy the secret now; it is not shown again."
        )


@admin.register(GroupPolicy)
class GroupPolicyAdmin(admin.ModelAdmin):
    list_display = ["group", "priority", "all_workspaces"]
    search_fields = ["group__name"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail is read here, never written."""

    list_display = ["created_at", "actor_name", "api_key_name", "action", "target", "address"]
    list_filter = ["action"]
    search_fields = ["actor_name", "api_key_name", "target"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.unregister(get_user_model())


@admin.register(get_user_model())
class KasmUserAdmin(UserAdmin):
    """Deleting a user goes through user_delete: their sessions are destroyed first."""

    def delete_model(self, request, obj):
        user_delete(user=obj)

    def delete_queryset(self, request, queryset):
        for user in queryset:
            user_delete(user=user)
