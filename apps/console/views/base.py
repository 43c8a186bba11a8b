"""What every console page shares: a page of a long list, and the audit row of a write."""

from django.core.paginator import Paginator

from apps.accounts.services import audit_record
from apps.accounts.throttle import client_address

PAGE_SIZE = 50


def audited(request, action: str, target: str = "", **details) -> None:
    """Record a console write by the logged-in admin, from their address."""
    audit_record(
        action=f"console.{action}",
        target=target,
        actor=request.user,
        address=client_address(request.META),
        details=details,
    )


def page_of(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
