from django.db.models import QuerySet

from apps.images.models import Image


def image_list_launchable() -> QuerySet[Image]:
    return Image.objects.filter(enabled=True).order_by("friendly_name")
