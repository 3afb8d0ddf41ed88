"""Classify a container's arguments: Hydra override, Hydra's own flag, argparse-style flag, positional.

The Hydra flag table mirrors ``hydra._internal.utils.get_args_parser()`` (a test keeps them equal), so
``--config-name train`` or ``-m`` are not mistaken for argparse-style arguments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from hydra_yaml_lint.component import Arg, Component

# flag -> takes a value (True), takes none (False), takes one optionally (None)
HYDRA_FLAGS: dict[str, bool | None] = {
    "--help": False,
    "-h": False,
    "--hydra-help": False,
    "--version": False,
    "--cfg": True,
    "-c": True,
    "--resolve": False,
    "--package": True,
    "-p": True,
    "--run": False,
    "-r": False,
    "--multirun": False,
    "-m": False,
    "--shell-completion": False,
    "-sc": False,
    "--config-path": True,
    "-cp": True,
    "--config-name": True,
    "-cn": True,
    "--config-dir": True,
    "-cd": True,
    "--experimental-rerun": True,
    "--info": None,
    "-i": None,
}
HYDRA_INFO_CHOICES = frozenset({"all", "config", "defaults", "defaults-tree", "plugins", "searchpath"})

_LONG_FLAG = re.compile(r"^--(?P<name>[A-Za-z_][\w.-]*)(?:=(?P<value>.*))?$", re.DOTALL)
_SHORT_FLAG = re.compile(r"^-(?P<name>[A-Za-z][\w-]*)(?:=(?P<value>.*))?$", re.DOTALL)
_OVERRIDE_LIKE = re.compile(r"^(?:~|\+{1,2})?[\w$./@-]+(?:@[\w.]*)?=", re.DOTALL)


class Shape(Enum):
    OVERRIDE = "override"
    HYDRA_FLAG = "hydra-flag"
    HYDRA_FLAG_VALUE = "hydra-flag-value"
    LONG_FLAG = "long-flag"
    SHORT_FLAG = "short-flag"
    FLAG_VALUE = "flag-value"
    POSITIONAL = "positional"
    BROKEN = "broken"  # an unknown structure: reported by malformed-placeholder


@dataclass
class ArgShape:
    arg: Arg
    shape: Shape
    flag: str | None = None  # the flag's name without dashes
    inline_value: str | None = None  # `--name=value`
    value_arg: Arg | None = None  # `--name VALUE`


def _is_flag(arg: Arg) -> bool:
    value = arg.value
    return (
        value is not None and arg.struct is None and bool(_LONG_FLAG.match(value) or _SHORT_FLAG.match(value))
    )


def _takes_next_as_value(arg: Arg) -> bool:
    if arg.problem is not None:
        return False
    if arg.struct is not None:
        return True
    value = arg.value or ""
    if _is_flag(arg):
        return False
    return value.startswith("{{") or not _OVERRIDE_LIKE.match(value)


def _classify(args: list[Arg]) -> list[ArgShape]:
    shapes: list[ArgShape] = []
    index = 0
    while index < len(args):
        arg = args[index]
        following = args[index + 1] if index + 1 < len(args) else None
        value = arg.value
        index += 1
        if arg.problem is not None or value is None:
            shapes.append(ArgShape(arg, Shape.BROKEN))
            continue
        if arg.struct is not None:
            shapes.append(ArgShape(arg, Shape.POSITIONAL))
            continue
        if not value.startswith("-"):
            plain_override = "=" in value or (value.startswith("~") and len(value) > 1)
            shapes.append(ArgShape(arg, Shape.OVERRIDE if plain_override else Shape.POSITIONAL))
            continue
        flag_text = value.split("=", 1)[0]
        if flag_text in HYDRA_FLAGS:
            shapes.append(ArgShape(arg, Shape.HYDRA_FLAG, flag=flag_text))
            takes = HYDRA_FLAGS[flag_text]
            wants_value = takes or (
                takes is None and following is not None and following.value in HYDRA_INFO_CHOICES
            )
            if following is not None and "=" not in value and wants_value:
                shapes.append(ArgShape(following, Shape.HYDRA_FLAG_VALUE))
                index += 1
            continue
        match = _LONG_FLAG.match(value)
        shape = Shape.LONG_FLAG
        if match is None:
            match = _SHORT_FLAG.match(value)
            shape = Shape.SHORT_FLAG
        if match is not None:
            flag = ArgShape(arg, shape, flag=match["name"], inline_value=match["value"])
            shapes.append(flag)
            if match["value"] is None and following is not None and _takes_next_as_value(following):
                flag.value_arg = following
                shapes.append(ArgShape(following, Shape.FLAG_VALUE))
                index += 1
            continue
        if "=" in value or (value.startswith("~") and len(value) > 1):
            shapes.append(ArgShape(arg, Shape.OVERRIDE))
        else:
            shapes.append(ArgShape(arg, Shape.POSITIONAL))
    return shapes


def arg_shapes(component: Component) -> list[ArgShape]:
    """The shapes of ``component.args`` (rules ask :meth:`LintContext.shapes
    <hydra_yaml_lint.context.LintContext.shapes>`, which computes them once per component)."""
    return _classify(component.args)
