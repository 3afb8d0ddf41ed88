"""No progress display reads a device tensor back on every step (on a GPU each read waits for the device)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest
import torch

from trainer import compose_config, train
from trainer.callbacks import NonFiniteLossGuard

HOST_READS = ("item", "tolist", "__float__", "__int__", "__bool__")
# the guard reads each loss at once on the CPU only; on an accelerator it defers (test_trainer_callbacks)
CPU_ONLY_READERS = {NonFiniteLossGuard.on_train_batch_end.__code__}


def _count_host_reads(monkeypatch: pytest.MonkeyPatch, run: Callable[[], Any]) -> int:
    count = 0

    def counting(original: Callable[..., Any]) -> Callable[..., Any]:
        def read(self: torch.Tensor, *args: Any) -> Any:
            nonlocal count
            if sys._getframe(1).f_code not in CPU_ONLY_READERS:
                count += 1
            return original(self, *args)

        return read

    with monkeypatch.context() as patch:
        for name in HOST_READS:
            patch.setattr(torch.Tensor, name, counting(getattr(torch.Tensor, name)))
        run()
    return count


@pytest.mark.parametrize("progress", ["bar", "plain", "none"])
def test_host_reads_do_not_grow_with_the_number_of_steps(
    monkeypatch: pytest.MonkeyPatch, fast_overrides: list[str], progress: str
) -> None:
    def run(batch_size: int) -> Callable[[], Any]:
        overrides = [o for o in fast_overrides if not o.startswith(("progress=", "data.batch_size="))]
        cfg = compose_config(
            [
                *overrides,
                f"progress={progress}",
                f"data.batch_size={batch_size}",
                "trainer.max_epochs=1",
                "trainer.log_every_n_steps=5",
                "model.scheduler=null",
                "resume=false",
            ]
        )
        return lambda: train(cfg)

    # 480 training images: 15 steps, then 30. Allowed: the extra log steps' reads (the loggers' and the
    # bar's, each once every log_every_n_steps steps), not one per step
    reads_15 = _count_host_reads(monkeypatch, run(32))
    reads_30 = _count_host_reads(monkeypatch, run(16))
    assert reads_30 - reads_15 <= 2 * (15 // 5), (reads_15, reads_30)
