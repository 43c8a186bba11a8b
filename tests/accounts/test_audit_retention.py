"""The audit trail keeps AUDIT_RETENTION_DAYS days."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import AuditEvent
from apps.accounts.services import audit_record
from apps.accounts.tasks import audit_prune_task

pytestmark = pytest.mark.django_db


def test_rows_older_than_the_retention_are_pruned(settings, alice):
    settings.AUDIT_RETENTION_DAYS = 30
    old = audit_record(action="console.user.update", target="x", actor=alice)
    AuditEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    recent = audit_record(action="console.user.update", target="y", actor=alice)
    assert audit_prune_task() == 1
    assert list(AuditEvent.objects.all()) == [recent]


def test_a_row_keeps_who_and_what_after_the_user_is_gone(alice):
    event = audit_record(action="console.user.delete", target="carol", actor=alice, address="127.0.0.1")
    alice.delete()
    event.refresh_from_db()
    assert (event.actor, event.actor_name, event.target) == (None, alice.username, "carol")
