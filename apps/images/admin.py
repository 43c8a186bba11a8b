from django.contrib import admin

from apps.images.models import Image


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["friendly_name", "docker_image", "cores", "memory", "gpus", "cpu_allocation_method", "enabled"]
    list_filter = ["enabled", "cpu_allocation_method", "stream_protocol", "restrict_to_zone"]
    search_fields = ["friendly_name", "docker_image", "description"]
