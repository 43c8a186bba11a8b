from django.db import models


class CpuAllocationMethod(models.TextChoices):
    """How a session's cores become a container CPU limit."""

    INHERIT = "inherit", "Inherit (no CPU limit)"
    QUOTAS = "quotas", "Quotas (hard limit of the cores)"
    SHARES = "shares", "Shares (weight proportional to the cores)"

    @property
    def kasm_name(self) -> str:
        """As Kasm spells it in registries and the Developer API: Inherit, Quotas, Shares."""
        return self.value.title()


class StreamProtocol(models.TextChoices):
    """What the workspace serves on port 6901."""

    NOVNC = "novnc", "HTTP + WebSocket (noVNC / websockify)"
    KASMVNC = "kasmvnc", "HTTPS + basic auth (KasmVNC)"
