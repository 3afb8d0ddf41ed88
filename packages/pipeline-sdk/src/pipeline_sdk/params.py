"""Pipeline parameter values are data, not Hydra syntax.

A run-time String parameter lands inside a Hydra override in a component's args, e.g.
``experiment='{{$.inputs.parameters['experiment']}}'``. Without care a value such as ``a,b`` becomes a
sweep, ``[1,2]`` a list, ``x=y`` a parse error and ``${oc.env:SECRET}`` an interpolation that leaks an
environment variable. The mechanism:

1. component args wrap String parameters in Hydra single quotes (``KEY='{{...}}'``);
2. the value handed to KFP (pipeline default and run-time value) is escaped for that context:
   ``${`` becomes ``\\${`` (OmegaConf's escaped interpolation) and quotes/backslashes follow Hydra's
   quoted-string rules;
3. for a Vertex AI CustomJob step, whose args the service pastes into a JSON payload as they are, the
   value is JSON-escaped on top (:func:`pipeline_sdk.custom_job.payload_text`);
4. every value is then read back the way the task receives it (pasted into the arg, or into the payload
   and parsed) through Hydra's own override parser and OmegaConf's resolver; a value that does not come
   back verbatim is rejected with a clear error before compile, run or submit.

Unquoted uses (``KEY={{...}}``, e.g. a config-group choice) are not escaped, only checked. A value that a
plain task would receive holding ``{{$`` is refused: the services may substitute it again as a placeholder
(kubeflow/pipelines#13977; docs/vertex-behaviour.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline_sdk.custom_job import PayloadError, from_payload, payload_text, pool_args
from pipeline_sdk.errors import ParameterError, one_line

#: Linux's MAX_ARG_STRLEN: a longer single argument makes exec fail (E2BIG), locally and in any container
MAX_ARG_BYTES = 128 * 1024
_INTERPOLATION = re.compile(r"(\\*)\$\{")
_QUOTE = re.compile(r"(\\*)'")
_TRAILING_BACKSLASHES = re.compile(r"(\\+)\Z")  # \Z: $ would also match before a final newline
_ITEM_FIELD = re.compile(r'parseJson\(string_value\)\[(?P<field>"(?:[^"\\]|\\.)*")\]')


def input_placeholder(name: str) -> str:
    """KFP's placeholder for a component input parameter (single-quoted key, as kfp.local needs)."""
    return "{{$.inputs.parameters['" + name + "']}}"


def escape_interpolations(value: str) -> str:
    """``value`` escaped so that OmegaConf reads it back as text (``${`` → ``\\${``)."""
    # OmegaConf: `\${` is a literal `${`; backslashes right before it are escapes themselves.
    return _INTERPOLATION.sub(lambda m: m.group(1) * 2 + "\\${", value)


def quote_for_hydra(text: str) -> str:
    """``text`` escaped for Hydra's single-quoted strings: ``'`` → ``\\'``, backslashes before a quote doubled.

    This is Hydra syntax only; OmegaConf still resolves ``${...}`` in the result (see
    :func:`hydra_quoted_text`).
    """
    text = _QUOTE.sub(lambda m: m.group(1) * 2 + "\\'", text)
    return _TRAILING_BACKSLASHES.sub(lambda m: m.group(1) * 2, text)


def hydra_quoted_text(value: str) -> str:
    """The text that, placed between single quotes in a Hydra override, reads back as ``value``.

    Interpolations are escaped, so ``${...}`` stays literal text.
    """
    return quote_for_hydra(escape_interpolations(value))


class _Unreadable(ValueError):
    """An override whose value does not survive Hydra parsing + OmegaConf resolution."""


def read_override_value(override: str) -> Any:
    """The value a Hydra app sees for ``override`` (parsed by Hydra, interpolations resolved)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        parsed = OverridesParser.create().parse_override(override)
    except HydraException as e:
        raise _Unreadable(f"Hydra cannot parse it ({one_line(e)})") from None
    if parsed.is_sweep_override():
        raise _Unreadable("Hydra reads it as a sweep over several values")
    try:
        node = OmegaConf.create({"value": parsed.value()})
        return OmegaConf.to_container(node, resolve=True, throw_on_missing=True)["value"]
    except OmegaConfBaseException as e:
        raise _Unreadable(f"OmegaConf cannot resolve it ({str(e).splitlines()[0]})") from None


@dataclass(frozen=True)
class ParameterUse:
    """One component arg that receives a pipeline parameter."""

    task: str
    arg: str
    placeholder: str
    #: a CustomJob worker-pool arg: the service pastes the value into the job's JSON payload
    in_payload: bool = False

    def received(self, wire: str) -> str:
        """The arg as the task receives it once the service has put ``wire`` in (raises PayloadError)."""
        return self.arg.replace(self.placeholder, from_payload(wire) if self.in_payload else wire)

    @property
    def quoted(self) -> bool:
        return f"'{self.placeholder}'" in self.arg

    @property
    def key(self) -> str:
        return self.arg.split("=", 1)[0]


def _pipeline_parameter(source: Mapping[str, Any]) -> str | None:
    """The pipeline parameter (or swept parameter) a task input reads, if any.

    Inside a sweep's ParallelFor, kfp passes a pipeline parameter NAME as ``pipelinechannel--NAME`` and a
    swept one as a field of the loop item (``parseJson(string_value)["NAME"]``).
    """
    name = source.get("componentInputParameter")
    if name is None:
        return None
    selected = _ITEM_FIELD.fullmatch(source.get("parameterExpressionSelector", ""))
    if selected:
        return str(json.loads(selected["field"]))
    return name.removeprefix("pipelinechannel--")


def parameter_uses(spec: Mapping[str, Any]) -> dict[str, list[ParameterUse]]:
    """Pipeline parameter name → the container args it reaches, from a compiled pipeline spec dict."""
    uses: dict[str, list[ParameterUse]] = {}
    executors = spec.get("deploymentSpec", {}).get("executors", {})
    components = spec.get("components", {})
    dags = [spec.get("root", {}).get("dag", {})] + [c["dag"] for c in components.values() if "dag" in c]
    tasks = [item for dag in dags for item in dag.get("tasks", {}).items()]
    for task_name, task in tasks:
        component = components.get(task.get("componentRef", {}).get("name", ""), {})
        executor = executors.get(component.get("executorLabel", ""), {})
        # a CustomJob step's own args sit in its worker pools, the launcher's container only starts the job
        args = [(arg, False) for arg in executor.get("container", {}).get("args", [])]
        args += [(arg, True) for arg in pool_args(component)]
        for input_name, source in task.get("inputs", {}).get("parameters", {}).items():
            pipeline_param = _pipeline_parameter(source)
            if pipeline_param is None:
                continue
            placeholder = input_placeholder(input_name)
            for arg, in_payload in args:
                if isinstance(arg, str) and placeholder in arg:
                    use = ParameterUse(task_name, arg, placeholder, in_payload)
                    uses.setdefault(pipeline_param, []).append(use)
    return uses


def wire_values(values: Mapping[str, Any], uses: Mapping[str, list[ParameterUse]]) -> dict[str, Any]:
    """The values to hand KFP so that each String parameter reaches every Hydra app verbatim.

    Raises :class:`~pipeline_sdk.errors.ParameterError` naming the parameter, the value and why.
    """
    wired: dict[str, Any] = {}
    for name, value in values.items():
        if not isinstance(value, str):
            wired[name] = value
            continue
        if "\x00" in value:
            raise ParameterError(
                f"params.{name}: {value!r} contains a NUL character, which no command line can carry"
            )
        param_uses = uses.get(name, [])
        for use in param_uses:
            if use.arg not in (f"{use.key}={use.placeholder}", f"{use.key}='{use.placeholder}'"):
                raise ParameterError(
                    f"params.{name}: task {use.task!r} uses it inside the larger value {use.arg!r}; "
                    f"pass it as a whole override: {use.key}='{use.placeholder}'"
                )
        wired[name] = _wire(name, value, param_uses)
    return wired


def _wire(name: str, value: str, param_uses: list[ParameterUse]) -> str:
    """The text for KFP that every use of ``params.NAME`` receives as ``value``; raises ParameterError."""
    text = _escaped_for_some(
        value,
        param_uses,
        lambda use: use.quoted,
        hydra_quoted_text,
        lambda _, plain: (
            f"params.{name}: {value!r} needs escaping for quoted uses but task {plain.task!r} "
            f"uses it unquoted ({plain.arg!r}); quote that use too"
        ),
    )
    wire = _escaped_for_some(
        text,
        param_uses,
        lambda use: use.in_payload,
        payload_text,
        lambda job, plain: (
            f"params.{name}: {value!r} is JSON-escaped for the Vertex AI CustomJob step "
            f"{job.task!r} but task {plain.task!r} would receive the escaped text; feed one of them from a "
            "parameter of its own"
        ),
    )
    if "{{$" in wire:
        raise ParameterError(
            f"params.{name}: {value!r} holds '{{{{$', which Vertex AI and the KFP backend may substitute "
            "again as a placeholder (kubeflow/pipelines#13977); write it differently"
        )
    for use in param_uses:
        if len(use.arg.replace(use.placeholder, wire).encode()) > MAX_ARG_BYTES:
            raise ParameterError(
                f"params.{name}: {len(value)} characters: task {use.task!r}'s argument {use.key}=... would be "
                f"longer than one command-line argument can be ({MAX_ARG_BYTES} bytes on Linux)"
            )
        try:
            override = use.received(wire)
            seen = read_override_value(override)
        except PayloadError as e:
            raise ParameterError(_not_verbatim(name, value, use, str(e))) from None
        except _Unreadable as e:
            raise ParameterError(_not_verbatim(name, value, use, _unresolved(value, str(e)))) from None
        if seen != value:
            why = _unresolved(value, f"the app would receive {seen!r}")
            raise ParameterError(_not_verbatim(name, value, use, why))
    return wire


def _unresolved(value: str, why: str) -> str:
    """``why``, unless ``value`` holds an interpolation: then what it resolves to (an environment variable,
    perhaps a secret) is not shown, only what the user typed."""
    if "${" not in value:
        return why
    return "the app would resolve the ${...} in it instead of receiving the text; use it in a quoted arg (KEY='{{...}}')"


def _escaped_for_some(
    text: str,
    uses: list[ParameterUse],
    needs: Callable[[ParameterUse], bool],
    escape: Callable[[str], str],
    refusal: Callable[[ParameterUse, ParameterUse], str],
) -> str:
    """``escape(text)`` when some use ``needs`` it; every use gets the one text KFP is handed, so an escape
    that changes the text while another use does not take it is refused (``refusal(needing, other)``)."""
    needing = [use for use in uses if needs(use)]
    escaped = escape(text) if needing else text
    if needing and escaped != text and len(needing) != len(uses):
        other = next(use for use in uses if not needs(use))
        raise ParameterError(refusal(needing[0], other))
    return escaped


def _not_verbatim(name: str, value: str, use: ParameterUse, why: str) -> str:
    return f"params.{name}: the value {value!r} cannot reach task {use.task!r} verbatim as {use.key}: {why}"


__all__ = [
    "ParameterUse",
    "escape_interpolations",
    "hydra_quoted_text",
    "input_placeholder",
    "parameter_uses",
    "quote_for_hydra",
    "read_override_value",
    "wire_values",
]
