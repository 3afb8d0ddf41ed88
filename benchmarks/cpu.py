"""The CPU a benchmark ran on, as its results name it (ratios against framework baselines move with the CPU)."""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_model() -> str:
    """``/proc/cpuinfo``'s model name with its family and model numbers (virtual CPUs often share one name)."""
    fields: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or platform.machine() or "unknown"
    if "cpu family" in fields and "model" in fields:
        return f"{name} (family {fields['cpu family']} model {fields['model']})"
    return name
