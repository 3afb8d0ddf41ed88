"""Read a container's ``command`` + ``args`` as the one argv the container runs: which program it starts
and where that program's own arguments begin.

    [trainer, a=1]                          console script ``trainer``; its arguments start at 1
    [python3, -u, -X, dev, -m, app.cli, ...] module ``app.cli`` (interpreter options are not its flags)
    [python, src/train.py, ...]             script ``src/train.py``
    [poetry, run, python, train.py, ...]    wrappers (env, poetry/uv/pipenv run) are looked through
    [sh, -c, "script", ...]                 a shell: never a Hydra app, nor are ``python -c`` code,
                                            KFP Python-function components and ordinary programs (git, ...)
    no command, args [a=1]                  the image's entrypoint; every arg is its own
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ProgramKind = Literal[
    "console-script",  # a name looked up among installed console scripts
    "module",  # python -m module
    "script",  # python path/to/script.py
    "shell",  # sh/bash ... (a -c script or a script file)
    "inline-code",  # python -c / python - (code in the argv)
    "kfp-python",  # a KFP Python-function component (its own argument parser)
    "ordinary",  # a well-known program that is not Python: git, gsutil, kubectl, ...
    "entrypoint",  # no command: the image's entrypoint runs the args
    "none",  # a command that is not a program name (a placeholder, a structure)
]
# the kinds whose program may be a Hydra app
PYTHON_PROGRAMS: frozenset[ProgramKind] = frozenset({"console-script", "module", "script", "entrypoint"})

_PYTHON = re.compile(r"^python(?:\d+(?:\.\d+)?)?[mtw]?(?:\.exe)?$")
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ash", "ksh"})
_ORDINARY = frozenset(
    {
        "aws", "az", "bq", "cat", "cp", "curl", "docker", "dotnet", "echo", "gcloud", "git", "go",
        "gsutil", "helm", "java", "jq", "julia", "kubectl", "ls", "make", "mkdir", "mv", "node",
        "npm", "npx", "R", "Rscript", "rm", "rsync", "spark-submit", "tar", "touch", "true", "unzip",
        "wget", "yq",
    }
)  # fmt: skip
_SCRIPT_SUFFIXES = (".sh", ".bash", ".R", ".r", ".js", ".rb", ".pl", ".jar")
_RUNNERS = {"poetry": "run", "uv": "run", "pipenv": "run"}  # `poetry run X ...` runs X
# CPython options that take a value (`-X dev`, `-Wignore`); every other short option is a switch
_PYTHON_VALUE_OPTIONS = frozenset("XW")
_PYTHON_LONG_VALUE_OPTIONS = frozenset({"--check-hash-based-pycs"})
# What KFP writes into the argv of a Python-function component.
_KFP_PYTHON_MARKERS = ("kfp.dsl.executor_main", "_parser.parse_args(", "kfp.components.executor_main")
_KFP_PYTHON_ARGS = frozenset({"--executor_input", "----output-paths"})


@dataclass(frozen=True)
class Program:
    """What an argv runs. ``start`` is the index of the program's first own argument."""

    kind: ProgramKind
    name: str | None = None  # console script name, module name or script path, as written
    start: int = 0

    @property
    def may_be_hydra(self) -> bool:
        return self.kind in PYTHON_PROGRAMS

    def describe(self) -> str:
        if self.kind == "module":
            return f"python -m {self.name}"
        if self.kind == "entrypoint":
            return "the image's entrypoint"
        return self.name or self.kind


def _after_env(values: Sequence[str | None], index: int) -> int:
    """Skip ``env``'s options and ``NAME=value`` assignments."""
    while index < len(values):
        value = values[index] or ""
        if value in ("-u", "--unset", "-C", "--chdir", "-S", "--split-string"):
            index += 2
        elif value.startswith("-") or ("=" in value and not value.startswith("=")):
            index += 1
        else:
            break
    return index


def _python(values: Sequence[str | None], index: int) -> Program:
    """The program run by ``values[index - 1]``, a Python interpreter, from its options on."""
    while index < len(values):
        value = values[index]
        if value is None:
            return Program("none", start=len(values))
        if value == "-":
            return Program("inline-code", start=len(values))
        if value.startswith("--"):
            name = value.split("=", 1)[0]
            index += 2 if name in _PYTHON_LONG_VALUE_OPTIONS and "=" not in value else 1
            continue
        if not value.startswith("-"):
            return Program("script", value, index + 1)
        for position, letter in enumerate(value[1:], start=2):
            rest = value[position:]
            if letter == "c":
                return Program("inline-code", start=len(values))
            if letter == "m":
                if rest:
                    return Program("module", rest, index + 1)
                module = values[index + 1] if index + 1 < len(values) else None
                return Program("module", module, index + 2) if module else Program("none", start=len(values))
            if letter in _PYTHON_VALUE_OPTIONS:
                index += 0 if rest else 1  # the value is attached or the next item
                break
        index += 1
    return Program("inline-code", start=len(values))  # a bare interpreter reads its program from stdin


def read_program(values: Sequence[str | None], command_length: int | None = None) -> Program:
    """The program an argv (``command`` followed by ``args``; ``None`` for structures) runs;
    ``command_length`` 0 means the container has no command (the image's entrypoint runs the args)."""
    if any(value in _KFP_PYTHON_ARGS for value in values) or any(
        marker in value for value in values if value for marker in _KFP_PYTHON_MARKERS
    ):
        return Program("kfp-python", start=len(values))
    if command_length == 0:
        return Program("entrypoint", start=0)
    index = 0
    while index < len(values):
        value = values[index]
        if value is None or not value.strip() or value.startswith("-") or "{{" in value or " " in value:
            return Program("none", start=len(values))
        executable = os.path.basename(value)
        if executable == "env":
            index = _after_env(values, index + 1)
            continue
        if executable in _RUNNERS and index + 1 < len(values) and values[index + 1] == _RUNNERS[executable]:
            index += 2
            continue
        if executable in _SHELLS:
            return Program("shell", executable, len(values))
        if _PYTHON.match(executable):
            return _python(values, index + 1)
        if executable in _ORDINARY or executable.endswith(_SCRIPT_SUFFIXES):
            return Program("ordinary", executable, len(values))
        if executable.endswith(".py"):
            return Program("script", value, index + 1)
        return Program("console-script", executable, index + 1)
    return Program("none", start=len(values))
