"""Keep CUDA availability checks cheap on machines without a GPU."""

from __future__ import annotations

import os

NVML_CHECK = "PYTORCH_NVML_BASED_CUDA_CHECK"


def use_cheap_cuda_check() -> bool:
    """Drop Lightning's NVML-based CUDA check when there is no GPU; return whether it was dropped.

    Lightning sets ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` at import so CUDA checks never initialise the driver
    before a fork. With a CUDA build of torch and no NVIDIA driver, torch then tries to ``dlopen``
    libnvidia-ml on every check, and Adam checks on every step: a measurable share of a small model's epoch
    (measured in the README's Speed section). Once no GPU has been found there is no driver state a fork
    could inherit, so torch's default check is as safe.
    """
    import torch

    if os.environ.get(NVML_CHECK) != "1" or torch.cuda.device_count() > 0:
        return False
    del os.environ[NVML_CHECK]
    return True
