"""Vertex AI accelerator names, taken from aiplatform's ``AcceleratorType`` enum, and the one check of a
configured accelerator type (compile checks every step's; submit re-checks the compiled spec's); the
machine types Vertex AI custom training offers, with the accelerators each can hold.

Importing aiplatform costs ~3 s, so the names are cached per installed google-cloud-aiplatform version
under ``$XDG_CACHE_HOME/pipeline-sdk`` (default ``~/.cache/pipeline-sdk``); the cache is only a shortcut
and is rebuilt whenever it is missing, unreadable or from another aiplatform version.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pipeline_sdk.atomic import write_text
from pipeline_sdk.errors import ConfigError

_UNSPECIFIED = "ACCELERATOR_TYPE_UNSPECIFIED"


def _cache_file() -> Path | None:
    try:
        aiplatform_version = version("google-cloud-aiplatform")
    except PackageNotFoundError:
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "pipeline-sdk" / f"vertex-accelerators-{aiplatform_version}.json"


def _from_aiplatform() -> tuple[str, ...]:
    from google.cloud.aiplatform_v1.types.accelerator_type import AcceleratorType

    return tuple(name for name in AcceleratorType.__members__ if name != _UNSPECIFIED)


def vertex_accelerator_types() -> tuple[str, ...]:
    """All accelerator type names Vertex AI accepts (``NVIDIA_L4``, ``NVIDIA_H100_80GB``, ...)."""
    cache = _cache_file()
    if cache is not None:
        try:
            names = json.loads(cache.read_text())
            if isinstance(names, list) and names and all(isinstance(n, str) for n in names):
                return tuple(names)
        except (OSError, ValueError):
            pass
    names = _from_aiplatform()
    if cache is not None:
        _write_quietly(cache, json.dumps(list(names)))
    return names


def _write_quietly(path: Path, text: str) -> None:
    """Best effort: a read-only home only costs the next run the aiplatform import."""
    with contextlib.suppress(OSError):
        write_text(path, text)


def validate_accelerator_type(name: str, key: str) -> str:
    """``name`` if Vertex knows it, else a :class:`ConfigError` listing the valid names."""
    valid = vertex_accelerator_types()
    if name in valid:
        return name
    upper = name.upper().replace("-", "_")
    close = [upper] if upper in valid else difflib.get_close_matches(upper, valid, n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    raise ConfigError(f"{key}: {name!r} is not a Vertex AI accelerator type{hint}; valid: {', '.join(valid)}")


@dataclass(frozen=True)
class Machine:
    """A Compute Engine machine type as Vertex AI training offers it."""

    name: str
    vcpus: int
    memory_gb: float
    accelerator: str | None = None  # the GPU model it holds; None for a CPU-only machine
    counts: tuple[int, ...] = ()  # GPU counts it takes (an accelerator-optimized machine: exactly one)


# The machine types of Vertex AI custom training and the GPUs each holds, from "Configure compute resources
# for custom training" (https://cloud.google.com/vertex-ai/docs/training/configure-compute#gpu-compatibility-table)
# and Compute Engine's "GPU machine types" (https://cloud.google.com/compute/docs/gpus), as of 2026-11.
# Accelerator-optimized machines (A2, A3, A4, G2) come with a fixed number of one GPU model; N1 machines take
# T4, P4, P100 or V100 GPUs, each GPU count up to a number of vCPUs; N2 and E2 machines take none.
_FIXED = {
    "NVIDIA_TESLA_A100": [(f"a2-highgpu-{n}g", n, 12 * n, 85 * n) for n in (1, 2, 4, 8)]
    + [("a2-megagpu-16g", 16, 96, 1360)],
    "NVIDIA_A100_80GB": [(f"a2-ultragpu-{n}g", n, 12 * n, 170 * n) for n in (1, 2, 4, 8)],
    "NVIDIA_H100_80GB": [(f"a3-highgpu-{n}g", n, 26 * n, 234 * n) for n in (1, 2, 4, 8)],
    "NVIDIA_H100_MEGA_80GB": [("a3-megagpu-8g", 8, 208, 1872)],
    "NVIDIA_H200_141GB": [("a3-ultragpu-8g", 8, 224, 2952)],
    "NVIDIA_B200": [("a4-highgpu-8g", 8, 224, 3968)],
    "NVIDIA_GB200": [("a4x-highgpu-4g", 4, 140, 884)],
    "NVIDIA_L4": [
        (f"g2-standard-{v}", {24: 2, 48: 4, 96: 8}.get(v, 1), v, 4 * v)
        for v in (4, 8, 12, 16, 24, 32, 48, 96)
    ],
}
#: N1 GPU model -> {GPU count: the most vCPUs a machine with that many may have}
_N1_MAX_VCPUS = {
    "NVIDIA_TESLA_T4": {1: 48, 2: 48, 4: 96},
    "NVIDIA_TESLA_P4": {1: 24, 2: 48, 4: 96},
    "NVIDIA_TESLA_P100": {1: 16, 2: 32, 4: 64},
    "NVIDIA_TESLA_V100": {1: 12, 2: 24, 4: 48, 8: 96},
}
_GENERAL = {  # family -> (vCPU counts, GB of memory per vCPU)
    "n1-standard": ((4, 8, 16, 32, 64, 96), 3.75),
    "n1-highmem": ((2, 4, 8, 16, 32, 64, 96), 6.5),
    "n1-highcpu": ((16, 32, 64, 96), 0.9),
    "n2-standard": ((4, 8, 16, 32, 48, 64, 80), 4.0),
    "n2-highmem": ((2, 4, 8, 16, 32, 48, 64, 80), 8.0),
    "n2-highcpu": ((16, 32, 48, 64, 80), 1.0),
    "e2-standard": ((4, 8, 16, 32), 4.0),
    "e2-highmem": ((2, 4, 8, 16), 8.0),
    "e2-highcpu": ((16, 32), 1.0),
}


def _machines() -> dict[str, Machine]:
    machines = {
        name: Machine(name, vcpus, memory, accelerator, (count,))
        for accelerator, shapes in _FIXED.items()
        for name, count, vcpus, memory in shapes
    }
    for family, (sizes, per_vcpu) in _GENERAL.items():
        for vcpus in sizes:
            machines[f"{family}-{vcpus}"] = Machine(f"{family}-{vcpus}", vcpus, vcpus * per_vcpu)
    return machines


MACHINES: dict[str, Machine] = _machines()


def n1_counts(accelerator: str, vcpus: int) -> tuple[int, ...]:
    """The counts of ``accelerator`` an N1 machine with ``vcpus`` vCPUs takes (none: it takes no such GPU)."""
    limits = _N1_MAX_VCPUS.get(accelerator, {})
    return tuple(count for count, most in limits.items() if vcpus <= most)


def accelerators_held(machine: Machine, accelerator: str | None) -> tuple[int, ...]:
    """The counts of ``accelerator`` that ``machine`` holds (``(0,)`` for no accelerator on a CPU machine)."""
    if accelerator is None:
        return () if machine.accelerator else (0,)
    if machine.accelerator:
        return machine.counts if machine.accelerator == accelerator else ()
    return n1_counts(accelerator, machine.vcpus) if machine.name.startswith("n1-") else ()


def _describe(machine: Machine) -> str:
    if machine.accelerator:
        return f"it comes with {machine.counts[0]} x {machine.accelerator}"
    held = [
        f"{'/'.join(map(str, n1_counts(a, machine.vcpus)))} x {a}"
        for a in _N1_MAX_VCPUS
        if machine.name.startswith("n1-") and n1_counts(a, machine.vcpus)
    ]
    return f"it takes {' or '.join(held)}" if held else "it takes no GPU"


def check_machine(name: str, accelerator: str | None, count: int, key: str) -> Machine:
    """The machine ``name``, checked to hold ``count`` x ``accelerator`` (``None``/0: no GPU); else a
    :class:`ConfigError` naming ``key`` (``steps.S.resources``) and what fits."""
    machine = MACHINES.get(name)
    if machine is None:
        close = difflib.get_close_matches(name, list(MACHINES), n=3, cutoff=0.7)
        hint = (
            f"did you mean {' or '.join(close)}?"
            if close
            else "e.g. g2-standard-8, a2-highgpu-1g, n1-standard-8"
        )
        raise ConfigError(f"{key}.machine_type: {name!r} is not a Vertex AI training machine type ({hint})")
    wanted = accelerator if accelerator and count > 0 else None
    held = accelerators_held(machine, wanted)
    if (count if wanted else 0) in held:
        return machine
    if wanted is None:
        return _raise_missing_accelerator(machine, key)
    what = f"{count} x {wanted}" if wanted else "no accelerator"
    fits = fitting_machines(wanted, count if wanted else 0)
    if fits:
        instead = f"; machines that do: {', '.join(m.name for m in fits[:6])}"
    else:
        instead = f"; no machine holds {count}: {wanted} comes {' or '.join(map(str, offered_counts(wanted)))} at a time"
    raise ConfigError(f"{key}.machine_type: {name!r} cannot hold {what} ({_describe(machine)}){instead}")


def _raise_missing_accelerator(machine: Machine, key: str) -> Machine:
    raise ConfigError(
        f"{key}.machine_type: {machine.name!r} comes with {machine.counts[0]} x {machine.accelerator}; set "
        f"{key}.accelerator_type={machine.accelerator} and {key}.accelerator_count={machine.counts[0]}"
    )


def offered_counts(accelerator: str) -> list[int]:
    """Every GPU count of ``accelerator`` some machine type holds."""
    counts = {c for m in MACHINES.values() for c in accelerators_held(m, accelerator)}
    return sorted(counts)


def fitting_machines(accelerator: str | None, count: int) -> list[Machine]:
    """The machine types that hold exactly ``count`` x ``accelerator``, smallest first."""
    found = [
        m for m in MACHINES.values() if (count if accelerator else 0) in accelerators_held(m, accelerator)
    ]
    return sorted(found, key=lambda m: (m.vcpus, m.memory_gb, m.name))


_QUANTITY = re.compile(r"^(?P<number>\d+(?:\.\d+)?)(?P<unit>[KMGTP]i?|[kmgtp]|)$")
_UNITS = {"": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}
_UNITS.update({f"{u}i": 1024 ** (i + 1) for i, u in enumerate("KMGTP")})


def _gigabytes(memory: str) -> float:
    match = _QUANTITY.match(memory.strip())
    if not match:
        return 0.0
    return float(match["number"]) * _UNITS[match["unit"]] / 1024**3  # Compute Engine's GB are GiB


def _vcpus(cpu: str) -> float:
    text = cpu.strip()
    try:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        return 0.0


def default_machine(
    accelerator: str | None, count: int, cpu: str | None, memory: str | None, key: str
) -> str:
    """The smallest machine holding ``count`` x ``accelerator`` with at least ``cpu`` vCPUs and ``memory``
    (the limits a plain task asks Vertex for); a :class:`ConfigError` naming ``key`` when none does."""
    fits = fitting_machines(accelerator, count)
    if accelerator is not None and not fits:
        counts = ", ".join(map(str, offered_counts(accelerator))) or "none known"
        raise ConfigError(
            f"{key}.accelerator_count: no Vertex AI machine holds {count} x {accelerator} "
            f"(counts offered: {counts})"
        )
    if accelerator is None:  # CPU only: Vertex AI Pipelines' own default family for a task
        fits = [m for m in fits if m.name.startswith("e2-standard-")] or fits
    vcpus = _vcpus(cpu) if cpu else 0.0
    gigabytes = _gigabytes(memory) if memory else 0.0
    for machine in fits:
        if machine.vcpus >= vcpus and machine.memory_gb >= gigabytes:
            return machine.name
    what = f"{count} x {accelerator}" if accelerator else "no accelerator"
    raise ConfigError(
        f"{key}: no Vertex AI machine holds {what} with cpu {cpu} and memory {memory}; "
        f"set {key}.machine_type (machines with {what}: {', '.join(m.name for m in fits[:6])})"
    )


__all__ = [
    "MACHINES",
    "Machine",
    "check_machine",
    "default_machine",
    "fitting_machines",
    "validate_accelerator_type",
    "vertex_accelerator_types",
]
