import logging

from celery import shared_task

from apps.common.errors import ApplicationError
from apps.registry.models import Registry
from apps.registry.services import registries_auto_update, registry_update

logger = logging.getLogger(__name__)


@shared_task(name="registry.auto_update", time_limit=600, ignore_result=True)
def registries_auto_update_task() -> None:
    registries_auto_update()


@shared_task(name="registry.update", time_limit=120, ignore_result=True)
def registry_update_task(registry_id: str) -> None:
    registry = Registry.objects.filter(pk=registry_id).first()
    if registry is None:
        return  # removed meanwhile
    try:
        registry_update(registry=registry)
    except ApplicationError as error:
        logger.warning("Update of registry %s failed: %s", registry.url, error.message)
