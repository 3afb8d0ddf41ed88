"""Without a GPU, Lightning's NVML-based CUDA check is dropped so optimiser steps don't probe for a driver."""

from __future__ import annotations

import os

import pytest
import torch

from trainer.gpu_probe import NVML_CHECK, use_cheap_cuda_check


def test_nvml_check_is_dropped_when_there_is_no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    if torch.cuda.device_count() > 0:
        pytest.skip("a GPU is present: the NVML check stays")
    monkeypatch.setenv(NVML_CHECK, "1")
    assert use_cheap_cuda_check() is True
    assert NVML_CHECK not in os.environ
    assert torch.accelerator.is_available() is False
    assert use_cheap_cuda_check() is False  # nothing left to drop


def test_a_users_own_setting_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NVML_CHECK, "0")
    assert use_cheap_cuda_check() is False
    assert os.environ[NVML_CHECK] == "0"
