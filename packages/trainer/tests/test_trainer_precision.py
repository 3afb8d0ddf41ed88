"""precision=auto: native mixed precision only, chosen without initialising CUDA in the launching process."""

from __future__ import annotations

import pytest
import torch

from trainer import precision
from trainer.precision import choose_precision, resolve_precision


@pytest.mark.parametrize(
    ("capabilities", "expected"),
    [
        ([], "32-true"),
        ([(6, 1)], "32-true"),  # Pascal: no tensor cores
        ([(7, 0)], "16-mixed"),  # V100
        ([(7, 5)], "16-mixed"),  # T4: bf16 only emulated
        ([(8, 0)], "bf16-mixed"),  # A100
        ([(8, 9)], "bf16-mixed"),  # L4
        ([(9, 0), (7, 5)], "16-mixed"),  # the oldest GPU decides
    ],
)
def test_choice_by_compute_capability(capabilities: list[tuple[int, int]], expected: str) -> None:
    assert choose_precision(capabilities) == expected


def _simulate_gpu(monkeypatch: pytest.MonkeyPatch, capability: tuple[int, int]) -> None:
    def initialises_cuda(*args: object, **kwargs: object) -> bool:
        raise AssertionError("the precision probe initialised CUDA")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", initialises_cuda)  # says yes to emulated bf16
    monkeypatch.setattr(torch.cuda, "get_device_capability", initialises_cuda)
    monkeypatch.setattr(torch.cuda, "get_device_properties", initialises_cuda)
    monkeypatch.setattr(precision, "gpu_capabilities", lambda: [capability])


def test_auto_on_a_gpu_without_native_bf16_is_fp16(monkeypatch: pytest.MonkeyPatch) -> None:
    _simulate_gpu(monkeypatch, (7, 5))
    assert resolve_precision("auto", "auto") == "16-mixed"
    assert resolve_precision("auto", "gpu") == "16-mixed"
    assert resolve_precision("auto", "cpu") == "32-true"
    assert resolve_precision("bf16-mixed", "gpu") == "bf16-mixed"  # an explicit choice is kept


def test_auto_on_a_bf16_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    _simulate_gpu(monkeypatch, (9, 0))
    assert resolve_precision("auto", None) == "bf16-mixed"


def test_probe_leaves_cuda_uninitialised() -> None:
    found = precision.gpu_capabilities()
    assert all(isinstance(major, int) and isinstance(minor, int) for major, minor in found)
    assert len(found) == torch.cuda.device_count()
    assert not torch.cuda.is_initialized()
