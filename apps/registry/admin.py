from django.contrib import admin

from apps.registry.models import Registry, RegistryWorkspace


@admin.register(Registry)
class RegistryAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "auto_update", "is_first_party", "last_fetched_at"]
    list_filter = ["auto_update", "is_first_party"]
    search_fields = ["name", "url"]


@admin.register(RegistryWorkspace)
class RegistryWorkspaceAdmin(admin.ModelAdmin):
    list_display = ["friendly_name", "docker_image", "registry", "sha", "installed_image"]
    list_filter = ["registry"]
    search_fields = ["friendly_name", "docker_image", "description"]
