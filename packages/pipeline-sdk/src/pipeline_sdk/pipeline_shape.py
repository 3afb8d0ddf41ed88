"""The pipeline's shape, read from ``steps`` in configs/pipeline.yaml, and the kfp pipeline built from it.

Each step names a component YAML and, per component input, where the value comes from: ``params.NAME``
(a pipeline parameter) or ``STEP.outputs.NAME`` (another step's output artifact). :func:`plan_steps`
checks every reference against the components and orders the steps by their data (and ``after``);
:func:`parameter_types` gives each pipeline parameter the type of the inputs it feeds;
:func:`build_pipeline` turns the plan into a kfp pipeline with those parameters. Adding a step or a
parameter is a configuration change only.
"""

# No `from __future__ import annotations`: kfp reads the pipeline signature's annotations as types.
import inspect
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from pipeline_sdk.components import LoadedComponent
from pipeline_sdk.errors import ConfigError

#: KFP v1 component input types that are pipeline parameters, and the Python type kfp reads for each.
PARAMETER_TYPES: dict[str, type] = {"String": str, "Integer": int, "Float": float, "Boolean": bool}
_PARAM_REF = re.compile(r"^params\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")
_OUTPUT_REF = re.compile(r"^(?P<step>[a-z][a-z0-9-]*)\.outputs\.(?P<output>[A-Za-z_][A-Za-z0-9_]*)$")


@dataclass(frozen=True)
class StepPlan:
    """One step, checked: its component, the parameters and artifacts feeding it, and its settings."""

    name: str
    component: LoadedComponent
    parameters: dict[str, str]  # component input -> pipeline parameter
    artifacts: dict[str, tuple[str, str]]  # component input -> (step, output)
    after: tuple[str, ...]
    settings: DictConfig  # the step's config entry (resources, retries, caching)

    @property
    def upstream(self) -> set[str]:
        return {step for step, _ in self.artifacts.values()} | set(self.after)


def _input_source(step: str, name: str, source: str, component: LoadedComponent) -> tuple[str, Any]:
    """``("param", NAME)`` or ``("artifact", (STEP, OUTPUT))`` for one ``steps.S.inputs.I`` entry."""
    key = f"steps.{step}.inputs.{name}"
    spec = component.factory.component_spec
    if name not in spec.inputs:
        raise ConfigError(f"{key}: {component.path} has no input {name!r} (it has {', '.join(spec.inputs)})")
    is_parameter = spec.inputs[name].type in PARAMETER_TYPES
    param, output = _PARAM_REF.match(str(source)), _OUTPUT_REF.match(str(source))
    if param and is_parameter:
        return "param", param["name"]
    if output and not is_parameter:
        return "artifact", (output["step"], output["output"])
    wanted = "params.NAME" if is_parameter else "STEP.outputs.NAME"
    kind = spec.inputs[name].type
    raise ConfigError(f"{key}: {source!r}: input {name!r} is a {kind}, so write {wanted}")


def _plan_one(name: str, entry: DictConfig, component: LoadedComponent) -> StepPlan:
    parameters, artifacts = {}, {}
    for input_name, source in entry.inputs.items():
        kind, ref = _input_source(name, str(input_name), source, component)
        (parameters if kind == "param" else artifacts)[str(input_name)] = ref
    spec = component.factory.component_spec
    unfed = [i for i, s in spec.inputs.items() if not s.optional and i not in entry.inputs]
    if unfed:
        how = [
            f"{i}: {'params.NAME' if spec.inputs[i].type in PARAMETER_TYPES else 'STEP.outputs.NAME'}"
            for i in unfed
        ]
        raise ConfigError(
            f"steps.{name}.inputs: {component.path} needs {', '.join(unfed)}; add {', '.join(how)}"
        )
    return StepPlan(name, component, parameters, artifacts, tuple(entry.after), entry)


def _check_references(plans: Mapping[str, StepPlan]) -> None:
    for plan in plans.values():
        for input_name, (step, output) in plan.artifacts.items():
            key = f"steps.{plan.name}.inputs.{input_name}"
            if step not in plans:
                raise ConfigError(f"{key}: no step {step!r} (steps: {', '.join(plans)})")
            outputs = plans[step].component.factory.component_spec.outputs or {}
            if output not in outputs:
                raise ConfigError(
                    f"{key}: step {step!r} has no output {output!r} (it has {', '.join(outputs)})"
                )
        for other in plan.after:
            if other not in plans:
                raise ConfigError(f"steps.{plan.name}.after: no step {other!r} (steps: {', '.join(plans)})")


def _in_order(plans: Mapping[str, StepPlan]) -> list[StepPlan]:
    """Steps after the steps they read from, in configuration order otherwise; a cycle is an error."""
    ordered: list[StepPlan] = []
    done: set[str] = set()
    while len(ordered) < len(plans):
        ready = [p for p in plans.values() if p.name not in done and p.upstream <= done]
        if not ready:
            cycle = sorted(set(plans) - done)
            raise ConfigError(f"steps: {', '.join(cycle)} depend on each other in a cycle")
        ordered.append(ready[0])
        done.add(ready[0].name)
    return ordered


def plan_steps(cfg: DictConfig, components: Mapping[str, LoadedComponent]) -> list[StepPlan]:
    """The configured steps, checked against their components, in an order kfp can build them in."""
    if not cfg.steps:
        raise ConfigError("steps: the pipeline has no steps")
    plans = {
        str(name): _plan_one(str(name), entry, components[str(name)]) for name, entry in cfg.steps.items()
    }
    _check_references(plans)
    return _in_order(plans)


def parameter_types(cfg: DictConfig, plans: list[StepPlan]) -> dict[str, type]:
    """Each pipeline parameter's type: that of the component inputs it feeds, which must agree."""
    types: dict[str, type] = {}
    fed_by: dict[str, str] = {}
    for plan in plans:
        for input_name, param in plan.parameters.items():
            where = f"steps.{plan.name}.inputs.{input_name}"
            if param not in cfg.params:
                raise ConfigError(f"{where}: no parameter params.{param} (add it under params)")
            kind = PARAMETER_TYPES[plan.component.factory.component_spec.inputs[input_name].type]
            if types.setdefault(param, kind) is not kind:
                raise ConfigError(
                    f"{where}: params.{param} feeds {_kfp_name(kind)} here but {_kfp_name(types[param])} "
                    f"at {fed_by[param]}"
                )
            fed_by.setdefault(param, where)
    unused = [name for name in cfg.params if name not in types]
    if unused:
        raise ConfigError(
            f"params.{unused[0]}: no step uses it; feed it to a component input "
            f"(steps.STEP.inputs.INPUT: params.{unused[0]}) or remove it"
        )
    return types


def parameter_values(cfg: DictConfig, types: Mapping[str, type]) -> dict[str, Any]:
    """``cfg.params`` checked against ``types`` (an Integer is no Boolean, a Float is finite)."""
    raw = OmegaConf.to_container(cfg.params, resolve=True)
    assert isinstance(raw, dict)
    values: dict[str, Any] = {}
    for name, value in raw.items():
        kind = types[name]
        if value is None and kind is str:
            value = ""  # KFP parameters have no null; Hydra apps read '' as "none selected"
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok or (kind is float and not math.isfinite(value)):
            raise ConfigError(
                f"params.{name}: {value!r} is not {_kfp_name(kind)} (the type of the inputs it feeds)"
            )
        values[str(name)] = value
    return values


def _kfp_name(kind: type) -> str:
    name = next(name for name, python in PARAMETER_TYPES.items() if python is kind)
    return f"an {name}" if name[0] in "AEIOU" else f"a {name}"


def _apply_resources(task: Any, step: str, res: DictConfig) -> None:
    """Accelerator, CPU and memory limits on ``task``; kfp's own checks become config errors."""
    settings = []
    if res.accelerator_type and res.accelerator_count > 0:
        settings += [
            ("accelerator_type", task.set_accelerator_type, res.accelerator_type),
            ("accelerator_count", task.set_accelerator_limit, res.accelerator_count),
        ]
    if res.cpu is not None:
        settings.append(("cpu", task.set_cpu_limit, str(res.cpu)))
    if res.memory is not None:
        settings.append(("memory", task.set_memory_limit, str(res.memory)))
    for key, setter, value in settings:
        try:
            setter(value)
        except ValueError as e:
            raise ConfigError(f"steps.{step}.resources.{key}: {value!r}: {e}") from None


def _add_task(plan: StepPlan, params: Mapping[str, Any], tasks: Mapping[str, Any], caching: bool) -> Any:
    arguments = {i: params[p] for i, p in plan.parameters.items()}
    arguments.update({i: tasks[s].outputs[o] for i, (s, o) in plan.artifacts.items()})
    plan.component.factory.component_spec.name = plan.name  # the task is named after the step
    task = plan.component.factory(**arguments)
    if plan.after:
        task.after(*(tasks[name] for name in plan.after))
    step_caching = plan.settings.caching
    task.set_caching_options(caching if step_caching is None else bool(step_caching))
    if plan.settings.retries:
        task.set_retry(num_retries=plan.settings.retries)
    _apply_resources(task, plan.name, plan.settings.resources)
    return task


def build_pipeline(
    cfg: DictConfig, plans: list[StepPlan], values: Mapping[str, Any], types: Mapping[str, type]
) -> Any:
    """The kfp pipeline (a GraphComponent) of ``plans`` with ``values`` as parameter defaults."""
    from kfp import dsl

    names = list(values)

    def body(*channels: Any) -> None:
        params = dict(zip(names, channels, strict=True))
        tasks: dict[str, Any] = {}
        for plan in plans:
            tasks[plan.name] = _add_task(plan, params, tasks, bool(cfg.caching))

    body.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=values[n], annotation=types[n]
            )
            for n in names
        ]
    )
    body.__name__ = cfg.pipeline.name.replace("-", "_")
    try:
        return dsl.pipeline(name=cfg.pipeline.name, description=cfg.pipeline.description or None)(body)
    except (TypeError, ValueError) as e:  # kfp's own wiring checks (e.g. artifact types that do not match)
        raise ConfigError(f"steps: kfp cannot wire the pipeline: {' '.join(str(e).split())}") from None


__all__ = [
    "PARAMETER_TYPES",
    "StepPlan",
    "build_pipeline",
    "parameter_types",
    "parameter_values",
    "plan_steps",
]
