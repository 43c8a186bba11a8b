from django.contrib import admin

from apps.sessions.models import PersistentProfile, Session, SessionCommand, SessionLink, ShareViewer, StagingPool


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "image", "agent", "status", "created_at", "expires_at"]
    list_filter = ["status", "agent", "image"]
    search_fields = ["id", "owner__username", "container_id", "share_id"]
    # Secrets and hashes are never shown, not even read-only.
    exclude = ["vnc_password", "session_token_hash"]


@admin.register(ShareViewer)
class ShareViewerAdmin(admin.ModelAdmin):
    list_display = ["user", "session", "created_at", "kicked_at"]
    search_fields = ["user__username", "session__share_id"]
    exclude = ["token_hash"]


@admin.register(SessionLink)
class SessionLinkAdmin(admin.ModelAdmin):
    list_display = ["session", "created_at", "expires_at", "used_at"]
    search_fields = ["session__owner__username"]
    exclude = ["token_hash"]


@admin.register(SessionCommand)
class SessionCommandAdmin(admin.ModelAdmin):
    list_display = ["session", "cmd", "user", "created_at", "finished_at", "exit_code"]
    search_fields = ["session__owner__username", "cmd"]


@admin.register(PersistentProfile)
class PersistentProfileAdmin(admin.ModelAdmin):
    """Read here; reset in the console (Persistent profiles), which also deletes it on the agents."""

    list_display = ["owner", "image", "kind", "source", "last_used_at"]
    search_fields = ["owner__username", "source"]


@admin.register(StagingPool)
class StagingPoolAdmin(admin.ModelAdmin):
    list_display = ["image", "zone", "ready_target", "max_total", "expiry_seconds", "enabled"]
    list_filter = ["enabled", "zone"]
    search_fields = ["image__friendly_name", "image__docker_image"]
