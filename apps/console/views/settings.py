"""Global defaults an admin changes while the platform runs (apps/common/runtime_settings.py)."""

from django.contrib import messages
from django.shortcuts import redirect, render

from apps.accounts.decorators import console_admin_required
from apps.agents.services import agents_checkin_interval_changed
from apps.common.errors import ApplicationError
from apps.common.runtime_settings import runtime_settings_current, runtime_settings_save
from apps.console.forms import RuntimeSettingsForm
from apps.console.views.base import audited


@console_admin_required
def runtime_settings(request):
    form = RuntimeSettingsForm(request.POST or None, current=runtime_settings_current())
    if request.method == "POST" and form.is_valid():
        try:
            changes = runtime_settings_save(form.cleaned_data)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            if "AGENT_CHECKIN_INTERVAL" in changes:
                agents_checkin_interval_changed(changes["AGENT_CHECKIN_INTERVAL"][1])
            for name, (old, new) in changes.items():
                audited(request, "settings.change", name, old=old, new=new)
            count = len(changes)
            saved = f"Saved {count} change{'s' if count != 1 else ''}."
            messages.success(request, saved if count else "Nothing changed.")
            return redirect("console:settings")
    return render(request, "console/settings.html", {"form": form})
