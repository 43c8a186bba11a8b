"""GPU discovery through NVML: absent NVML is zero GPUs; present NVML is read field by field."""

import sys
import types

from apps.agents.gpus import GpuReport, gpu_inventory


class FakeNvmlError(Exception):
    pass


def fake_pynvml(*, gpus: list[dict], init_error: bool = False) -> types.ModuleType:
    """A stand-in for pynvml with the calls gpus.py makes; a sensor set to None raises NVMLError."""
    module = types.ModuleType("pynvml")
    module.NVMLError = FakeNvmlError
    module.NVML_TEMPERATURE_GPU = 0
    module.calls = []

    def init():
        if init_error:
            raise FakeNvmlError("NVML Shared Library Not Found")

    def sensor(value):
        if value is None:
            raise FakeNvmlError("Not Supported")
        return value

    module.nvmlInit = init
    module.nvmlShutdown = lambda: module.calls.append("shutdown")
    module.nvmlDeviceGetCount = lambda: len(gpus)
    module.nvmlDeviceGetHandleByIndex = lambda index: gpus[index]
    module.nvmlDeviceGetUUID = lambda gpu: gpu["uuid"]
    module.nvmlDeviceGetName = lambda gpu: gpu["name"]
    module.nvmlDeviceGetMemoryInfo = lambda gpu: types.SimpleNamespace(total=gpu["total"], used=gpu["used"])
    module.nvmlDeviceGetTemperature = lambda gpu, _kind: sensor(gpu["temperature"])
    module.nvmlDeviceGetUtilizationRates = lambda gpu: types.SimpleNamespace(gpu=sensor(gpu["utilization"]))
    return module


def test_this_machine_without_nvml_reports_zero_gpus():
    # No NVIDIA driver here: the real pynvml cannot load libnvidia-ml, which must not be an error.
    assert gpu_inventory() == []


def test_missing_nvml_library_is_zero_gpus(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(gpus=[], init_error=True))
    assert gpu_inventory() == []


def test_missing_pynvml_package_is_zero_gpus(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` raise ImportError
    assert gpu_inventory() == []


def test_gpus_are_reported_with_name_uuid_memory_temperature_and_utilization(monkeypatch):
    devices = [
        {
            "uuid": b"GPU-1",
            "name": b"NVIDIA A10",
            "total": 24 << 30,
            "used": 1 << 30,
            "temperature": 45,
            "utilization": 12,
        },
        {"uuid": "GPU-2", "name": "NVIDIA T4", "total": 16 << 30, "used": 0, "temperature": None, "utilization": None},
    ]
    devices[0]["utilization"], devices[1]["utilization"] = 12, None
    module = fake_pynvml(gpus=devices)
    monkeypatch.setitem(sys.modules, "pynvml", module)
    assert gpu_inventory() == [
        GpuReport(0, "GPU-1", "NVIDIA A10", 24 << 30, 1 << 30, 45, 12),
        GpuReport(1, "GPU-2", "NVIDIA T4", 16 << 30, 0, None, None),
    ]
    assert module.calls == ["shutdown"]
