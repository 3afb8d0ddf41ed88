"""How many step processes ``pipeline-sdk run`` starts at once, and the refusal past what the machine holds.

A multi-replica step starts one process per replica, and ``--parallel N`` runs N sweep trials side by side:
``replica_count`` x ``--parallel`` trainers at once. Past the machine's cores and memory they only fight
(the OOM killer ends them, or the process runs out of file descriptors), so the run is refused before it
starts. The limit is ``local.max_processes``; ``null`` means 4 per core, at most one per GiB of memory.
"""

from __future__ import annotations

import os

from omegaconf import DictConfig

from pipeline_sdk.errors import ConfigError

PER_CORE = 4
BYTES_PER_PROCESS = 1 << 30


def machine_limit() -> int:
    """Step processes this machine holds at once: 4 per core, at most one per GiB of memory (at least 1)."""
    cores = os.cpu_count() or 1
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = cores * PER_CORE * BYTES_PER_PROCESS
    return max(1, min(PER_CORE * cores, memory // BYTES_PER_PROCESS))


def check_process_count(cfg: DictConfig, parallel: int, trials: int | None) -> None:
    """Refuse a run that would start more processes at once than ``local.max_processes`` allows."""
    limit = cfg.local.max_processes  # at least 1 when set (checked with the other config values)
    steps = [(f"steps.{name}", step) for name, step in cfg.steps.items()]
    steps += [(f"sweep.steps.{name}", step) for name, step in cfg.sweep.steps.items()] if trials else []
    key, replicas = max(((key, int(step.resources.replica_count)) for key, step in steps), key=lambda e: e[1])
    side_by_side = min(parallel, trials) if trials else 1
    processes = replicas * side_by_side
    allowed = limit if limit is not None else machine_limit()
    if processes > allowed:
        parts = [f"{key}.resources.replica_count={replicas}"] if replicas > 1 else []
        parts += [f"--parallel {side_by_side}"] if side_by_side > 1 else []
        started = " with ".join(parts)
        where = "local.max_processes" if limit is not None else "this machine (4 per core, one per GiB)"
        raise ConfigError(
            f"{started} starts {processes} processes at once, more than {where} allows ({allowed}); "
            "lower them, or set local.max_processes if the machine holds more"
        )


__all__ = ["check_process_count", "machine_limit"]
