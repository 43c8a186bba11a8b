from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from apps.images.selectors import image_list_launchable


@login_required
def workspaces(request):
    """The user's start page: a tile per workspace they can launch."""
    return render(request, "sessions/workspaces.html", {"images": image_list_launchable()})
