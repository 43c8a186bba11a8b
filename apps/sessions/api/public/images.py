"""Image calls: list (with filters), create and update. Run and exec configs and volumes are set
in the console, where their security flags are shown."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from rest_framework import serializers

from apps.accounts.choices import ApiPermission as P
from apps.accounts.models import ApiKey
from apps.agents.models import Zone
from apps.common.errors import validation_problems
from apps.images.models import Image
from apps.images.services import image_save
from apps.sessions.api.public import formats as fmt
from apps.sessions.api.public.dispatch import call
from apps.sessions.api.public.inputs import ApiError, Flag, Input, PublicId, Text, validated


class ImageFilters(Input):
    """Ours (Kasm's get_images takes none): every filter given must hold."""

    enabled = Flag(required=False)
    available = Flag(required=False)  # present on at least one agent
    name = Text(required=False)  # the Docker reference, exactly
    friendly_name = Text(required=False)  # contained in it, any case
    category = Text(required=False)
    zone_id = PublicId(required=False)


class Number(serializers.Field):
    default_error_messages = {"invalid": "must be a number."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return data


class ImageFields(Input):
    name = Text(required=False)
    friendly_name = Text(required=False)
    description = Text(required=False)
    cores = Number(required=False)
    memory = Number(required=False)
    gpu_count = Number(required=False)
    enabled = Flag(required=False)
    image_src = Text(required=False)
    categories = serializers.ListField(child=Text(), required=False, max_length=50)
    zone_id = PublicId(required=False)
    image_id = PublicId(required=False)


class NewImage(ImageFields):
    name = Text()
    friendly_name = Text()


class CreateImage(Input):
    target_image = NewImage()


class UpdateImage(Input):
    target_image = ImageFields()


IMAGE_FIELDS = {  # Kasm's name -> ours
    "name": "docker_image",
    "friendly_name": "friendly_name",
    "description": "description",
    "cores": "cores",
    "memory": "memory",
    "gpu_count": "gpus",
    "enabled": "enabled",
    "image_src": "icon_url",
    "categories": "categories",
}
CONSOLE_ONLY = {"run_config", "exec_config", "volume_mappings"}


@call("get_images", P.IMAGES_VIEW)
def get_images(api_key: ApiKey, body: dict) -> dict:
    filters = validated(ImageFilters, body)
    images = Image.objects.filter(archived=False).select_related("restrict_to_zone").order_by("friendly_name")
    if "enabled" in filters:
        images = images.filter(enabled=filters["enabled"])
    if "name" in filters:
        images = images.filter(docker_image=filters["name"])
    if "friendly_name" in filters:
        images = images.filter(friendly_name__icontains=filters["friendly_name"])
    if "zone_id" in filters:
        images = images.filter(restrict_to_zone_id=filters["zone_id"])
    present = fmt.images_present_anywhere()
    answer = [fmt.image_dict(image, present_on=present) for image in images]
    if "category" in filters:
        answer = [item for item in answer if filters["category"] in item["categories"]]
    if "available" in filters:
        answer = [item for item in answer if item["available"] == filters["available"]]
    return {"images": answer}


@call("create_image", P.IMAGES_MODIFY)
def create_image(api_key: ApiKey, body: dict) -> dict:
    """A workspace by hand, granted to no group until an admin does."""
    _console_only_refused(body.get("target_image"))
    return {"image": fmt.image_dict(_image_saved(Image(), validated(CreateImage, body)["target_image"]))}


@call("update_image", P.IMAGES_MODIFY)
def update_image(api_key: ApiKey, body: dict) -> dict:
    _console_only_refused(body.get("target_image"))
    target = validated(UpdateImage, body)["target_image"]
    if "image_id" not in target:
        raise ApiError(400, "Field 'target_image.image_id' is required.")
    image = Image.objects.filter(pk=target["image_id"], archived=False).first()
    if image is None:
        raise ApiError(404, f"No image with image_id '{target['image_id'].hex}'.")
    return {"image": fmt.image_dict(_image_saved(image, target))}


def _console_only_refused(target) -> None:
    refused = sorted(CONSOLE_ONLY & set(target)) if isinstance(target, dict) else []
    if refused:
        raise ApiError(403, f"Set {', '.join(refused)} in the console, where their security flags are shown.")


def _image_saved(image: Image, target: dict) -> Image:
    for kasm_name, field in IMAGE_FIELDS.items():
        if kasm_name in target:
            setattr(image, field, target[kasm_name])
    if "zone_id" in target:
        image.restrict_to_zone = Zone.objects.filter(pk=target["zone_id"]).first()
        if image.restrict_to_zone is None:
            raise ApiError(404, f"No zone with zone_id '{target['zone_id'].hex}'.")
    try:
        return image_save(image=image)
    except ValidationError as error:
        raise ApiError(400, f"The image is invalid: {validation_problems(error)}") from None
