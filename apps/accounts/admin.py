from django.contrib import admin

from apps.accounts.models import ApiKey, Profile


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "language", "timezone"]
    search_fields = ["user__username", "user__email"]
    list_filter = ["timezone"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "owner", "enabled", "expires_at", "last_used_at"]
    list_filter = ["enabled", "expires_at"]
    search_fields = ["name", "key", "owner__username"]
    # The secret's hash is never shown or edited: a new secret means a new key.
    exclude = ["secret_hash"]
    readonly_fields = ["key", "last_used_at"]
