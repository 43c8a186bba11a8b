"""GPU discovery through NVML. No NVML library or no GPU means zero GPUs, never an error."""

from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GpuReport:
    index: int
    uuid: str
    name: str
    memory_total: int
    memory_used: int
    temperature_c: int | None
    utilization_percent: int | None


def gpu_inventory() -> list[GpuReport]:
    """The GPUs of this host as NVML sees them; [] when NVML is absent or fails to start."""
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as error:
        logger.debug("NVML unavailable, reporting no GPUs: %s", error)
        return []
    try:
        return [_gpu_report(pynvml, index) for index in range(pynvml.nvmlDeviceGetCount())]
    finally:
        pynvml.nvmlShutdown()


def _gpu_report(pynvml, index: int) -> GpuReport:
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
    return GpuReport(
        index=index,
        uuid=_text(pynvml.nvmlDeviceGetUUID(handle)),
        name=_text(pynvml.nvmlDeviceGetName(handle)),
        memory_total=int(memory.total),
        memory_used=int(memory.used),
        temperature_c=_optional(lambda: pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU), pynvml),
        utilization_percent=_optional(lambda: pynvml.nvmlDeviceGetUtilizationRates(handle).gpu, pynvml),
    )


def _optional(read, pynvml) -> int | None:
    """Some GPUs do not report every sensor; a missing one is None, not a failed check-in."""
    try:
        return int(read())
    except pynvml.NVMLError:
        return None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
