from django.contrib import admin

from apps.agents.models import Agent, AgentImage, AgentStat, AgentStatHour, Gpu, ManagerToken, Zone


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]


class GpuInline(admin.TabularInline):
    model = Gpu
    extra = 0


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["hostname", "address", "zone", "status", "enabled", "cores", "memory", "gpus", "last_checkin_at"]
    list_filter = ["status", "enabled", "zone", "prune_mode"]
    search_fields = ["hostname", "address"]
    inlines = [GpuInline]


@admin.register(AgentStat)
class AgentStatAdmin(admin.ModelAdmin):
    list_display = ["agent", "recorded_at", "cpu_percent", "memory_used", "disk_used"]
    list_filter = ["agent"]
    search_fields = ["agent__hostname"]
    date_hierarchy = "recorded_at"


@admin.register(AgentStatHour)
class AgentStatHourAdmin(admin.ModelAdmin):
    list_display = ["agent", "hour", "samples", "cpu_percent", "memory_used", "disk_used"]
    search_fields = ["agent__hostname"]
    date_hierarchy = "hour"


@admin.register(Gpu)
class GpuAdmin(admin.ModelAdmin):
    list_display = ["agent", "index", "name", "memory_total", "temperature_c", "utilization_percent"]
    list_filter = ["agent", "name"]
    search_fields = ["name", "uuid", "agent__hostname"]


@admin.register(AgentImage)
class AgentImageAdmin(admin.ModelAdmin):
    list_display = ["agent", "reference", "status", "failed_attempts", "checked_at"]
    list_filter = ["status", "agent"]
    search_fields = ["reference", "agent__hostname", "error"]


@admin.register(ManagerToken)
class ManagerTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by `manager_token --rotate` (shown once); here they can only be expired."""

    list_display = ["created_at", "expires_at"]
    list_filter = ["expires_at"]
    exclude = ["token_hash"]

    def has_add_permission(self, request) -> bool:
        return False
