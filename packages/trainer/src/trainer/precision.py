"""``trainer.precision: auto``: the fastest mixed precision the GPU runs natively, chosen without touching CUDA.

bf16 autocast only pays on GPUs with bf16 tensor cores (compute capability 8.0 and later: A100, L4, H100);
``torch.cuda.is_bf16_supported()`` also says yes on older ones (T4, V100), where bf16 is emulated and slow, and
it initialises CUDA in the calling process, which breaks DDP strategies that fork afterwards. The capability
is read through NVML instead, as Lightning's own CUDA checks do, or, where NVML cannot be loaded, in a child
process.
"""

from __future__ import annotations

import ctypes
import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

Capability = tuple[int, int]

BF16 = (8, 0)  # Ampere: bf16 tensor cores
FP16 = (7, 0)  # Volta: fp16 tensor cores

_CHILD_PROBE = (
    "import json, torch; "
    "print(json.dumps([torch.cuda.get_device_capability(i) for i in range(torch.cuda.device_count())]))"
)


def resolve_precision(setting: Any, accelerator: Any) -> Any:
    """``trainer.precision`` as given, or for ``auto`` the choice for the GPUs the run would use (or the CPU)."""
    if setting not in (None, "auto"):
        return setting
    import torch

    # Lightning sets PYTORCH_NVML_BASED_CUDA_CHECK=1 when imported: this check does not initialise CUDA
    gpu = str(accelerator or "auto") in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    return choose_precision(gpu_capabilities() if gpu else [])


def choose_precision(capabilities: Sequence[Capability]) -> str:
    """Lightning precision for GPUs of these compute capabilities (none: the CPU).

    The oldest GPU decides: bf16-mixed from 8.0, fp16-mixed (with its gradient scaler) from 7.0, else 32-true.
    """
    if not capabilities:
        return "32-true"
    oldest = min(capabilities)
    if oldest >= BF16:
        return "bf16-mixed"
    if oldest >= FP16:
        return "16-mixed"
    return "32-true"


def _nvml_capabilities() -> list[Capability] | None:
    try:
        nvml = ctypes.CDLL("libnvidia-ml.so.1")
    except OSError:
        return None
    if nvml.nvmlInit_v2() != 0:
        return None
    try:
        count = ctypes.c_uint()
        if nvml.nvmlDeviceGetCount_v2(ctypes.byref(count)) != 0:
            return None
        found = []
        for index in range(count.value):
            handle = ctypes.c_void_p()
            major, minor = ctypes.c_int(), ctypes.c_int()
            if nvml.nvmlDeviceGetHandleByIndex_v2(index, ctypes.byref(handle)) != 0:
                return None
            if nvml.nvmlDeviceGetCudaComputeCapability(handle, ctypes.byref(major), ctypes.byref(minor)) != 0:
                return None
            found.append((major.value, minor.value))
        return found
    finally:
        nvml.nvmlShutdown()


def _child_capabilities() -> list[Capability]:
    result = subprocess.run(
        [sys.executable, "-c", _CHILD_PROBE], capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        return []
    return [tuple(c) for c in json.loads(result.stdout)]  # type: ignore[misc]


def gpu_capabilities() -> list[Capability]:
    """Compute capabilities of the machine's NVIDIA GPUs, without initialising CUDA in this process."""
    found = _nvml_capabilities()
    return found if found is not None else _child_capabilities()
