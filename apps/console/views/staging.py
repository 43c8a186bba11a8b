"""Staging pools: ready sessions per workspace, for instant launches (admins only)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.accounts.decorators import console_admin_required
from apps.console.views.base import audited
from apps.sessions.models import StagingPool
from apps.sessions.staging import staging_pool_delete, staging_pools_with_counts


class StagingPoolForm(forms.ModelForm):
    class Meta:
        model = StagingPool
        fields = ["image", "zone", "ready_target", "max_total", "expiry_seconds", "enabled"]
        labels = {"image": "Workspace", "zone": "Zone", "ready_target": "Ready sessions", "max_total": "At most"}

    def clean(self):
        cleaned = super().clean()
        image, zone = cleaned.get("image"), cleaned.get("zone")
        if image and zone and image.restrict_to_zone_id and image.restrict_to_zone_id != zone.pk:
            self.add_error("zone", f"'{image}' runs only in zone '{image.restrict_to_zone}'.")
        if (cleaned.get("ready_target") or 0) > (cleaned.get("max_total") or 0):
            raise forms.ValidationError("Ready sessions cannot exceed the most the pool may hold.")
        if (cleaned.get("expiry_seconds") or 0) < 60:
            self.add_error("expiry_seconds", "An unclaimed session lives at least 60 seconds.")
        return cleaned


@console_admin_required
def staging_pools(request, pool_id=None):
    """The pools with their ready and starting counts; the form adds one, or edits `pool_id`."""
    pool = get_object_or_404(StagingPool, pk=pool_id) if pool_id else None
    form = StagingPoolForm(request.POST or None, instance=pool)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        audited(request, "staging.save", saved.label, ready=saved.ready_target, most=saved.max_total)
        messages.success(request, f"Staging pool of '{saved.label}' saved; it fills within seconds.")
        return redirect("console:staging")
    return render(request, "console/staging.html", {"pools": staging_pools_with_counts(), "form": form, "pool": pool})


@console_admin_required
@require_POST
def staging_pool_remove(request, pool_id):
    pool = get_object_or_404(StagingPool.objects.select_related("image", "zone"), pk=pool_id)
    destroyed = staging_pool_delete(pool=pool)
    audited(request, "staging.delete", pool.label, destroyed=destroyed)
    messages.success(request, f"Staging pool of '{pool.label}' deleted; {destroyed} staged sessions destroyed.")
    return redirect("console:staging")
