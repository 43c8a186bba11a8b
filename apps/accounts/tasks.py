"""Manager-side Celery tasks of accounts."""

from celery import shared_task
from django.conf import settings

from apps.accounts.services import audit_prune, web_logins_prune


@shared_task(name="accounts.audit_prune", time_limit=300, ignore_result=True)
def audit_prune_task() -> int:
    """Keep the audit trail to AUDIT_RETENTION_DAYS days."""
    return audit_prune(days=settings.AUDIT_RETENTION_DAYS)


@shared_task(name="accounts.web_logins_prune", time_limit=300, ignore_result=True)
def web_logins_prune_task() -> int:
    """Delete browsers' sessions that expired (what Django's clearsessions does)."""
    return web_logins_prune()
