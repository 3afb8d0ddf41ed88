"""The pipeline's shape, read from ``steps`` in configs/pipeline.yaml, and the kfp pipeline built from it.

Each step names a component YAML and, per component input, where the value comes from: ``params.NAME``
(a pipeline parameter) or ``STEP.outputs.NAME`` (another step's output artifact). :func:`plan_steps`
checks every reference against the components and orders the steps by their data (and ``after``);
:func:`parameter_types` gives each pipeline parameter the type of the inputs it feeds;
:func:`build_pipeline` turns the plan into a kfp pipeline with those parameters. Adding a step or a
parameter is a configuration change only.

A sweep (:mod:`pipeline_sdk.sweep`) gives each step a stage: ``once`` (reads no swept parameter and no
trial step), ``trial`` (reads a swept parameter or a trial step: it runs inside one ``dsl.ParallelFor``
over the trials, ``sweep.max_parallel`` at a time) or ``after`` (the ``sweep.steps``, run once after every
trial; a trial step's output reaches them as the list of all trials' outputs, ``dsl.Collected``). One
ParallelFor rather than an unrolled DAG keeps the spec's size independent of the trial count, shows the
trials as one loop in the Vertex UI, and is what ``dsl.Collected`` fans in from.
"""

# No `from __future__ import annotations`: kfp reads the pipeline signature's annotations as types.
import dataclasses
import inspect
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig

from pipeline_sdk.component_loader import LoadedComponent
from pipeline_sdk.custom_job import CustomJobSettings, custom_job_settings, wants_custom_job, wrap
from pipeline_sdk.errors import ConfigError, one_line
from pipeline_sdk.experiment_trials import experiment_inputs
from pipeline_sdk.notifications import notified
from pipeline_sdk.parameter_types import PARAMETER_TYPES, kfp_type_name
from pipeline_sdk.release_steps import DEPLOY_STEP, REGISTER_STEP, release_constants, release_entries
from pipeline_sdk.sweep import SweepPlan
from pipeline_sdk.task_resources import apply_resources

_PARAM_REF = re.compile(r"^params\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")
_OUTPUT_REF = re.compile(r"^(?P<step>[a-z][a-z0-9-]*)\.outputs\.(?P<output>[A-Za-z_][A-Za-z0-9_]*)$")
ONCE, TRIAL, AFTER = "once", "trial", "after"
#: String inputs of a sweep step that the compiler fills from the sweep, when the component declares them:
#: the metric and goal that rank the trials (sweep.select), and each trial's swept values as a JSON list
SELECTION_INPUTS = ("selection_metric", "selection_goal", "trial_parameters")


@dataclass(frozen=True)
class StepPlan:
    """One step, checked: its component, the parameters and artifacts feeding it, and its settings."""

    name: str
    key: str  # where it is configured: steps.NAME or sweep.steps.NAME
    component: LoadedComponent
    parameters: dict[str, str]  # component input -> pipeline parameter
    artifacts: dict[str, tuple[str, str]]  # component input -> (step, output)
    after: tuple[str, ...]
    settings: DictConfig  # the step's config entry (resources, retries, caching)
    stage: str = ONCE  # ONCE, TRIAL (once per sweep trial) or AFTER (a sweep step, after every trial)
    constants: dict[str, Any] = field(default_factory=dict)  # component input -> value compiled in
    custom_job: CustomJobSettings | None = None  # the Vertex AI CustomJob it runs as; None: a plain task

    @property
    def upstream(self) -> set[str]:
        return {step for step, _ in self.artifacts.values()} | set(self.after)


def _input_source(step_key: str, name: str, source: str, component: LoadedComponent) -> tuple[str, Any]:
    """``("param", NAME)`` or ``("artifact", (STEP, OUTPUT))`` for one ``steps.S.inputs.I`` entry."""
    key = f"{step_key}.inputs.{name}"
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


def _plan_one(name: str, key: str, entry: DictConfig, component: LoadedComponent) -> StepPlan:
    parameters, artifacts = {}, {}
    for input_name, source in entry.inputs.items():
        kind, ref = _input_source(key, str(input_name), source, component)
        (parameters if kind == "param" else artifacts)[str(input_name)] = ref
    spec = component.factory.component_spec
    unfed = [i for i, s in spec.inputs.items() if not s.optional and i not in entry.inputs]
    if unfed:
        how = [
            f"{i}: {'params.NAME' if spec.inputs[i].type in PARAMETER_TYPES else 'STEP.outputs.NAME'}"
            for i in unfed
        ]
        raise ConfigError(f"{key}.inputs: {component.path} needs {', '.join(unfed)}; add {', '.join(how)}")
    return StepPlan(name, key, component, parameters, artifacts, tuple(entry.after), entry)


def _check_references(plans: Mapping[str, StepPlan]) -> None:
    for plan in plans.values():
        for input_name, (step, output) in plan.artifacts.items():
            key = f"{plan.key}.inputs.{input_name}"
            if step not in plans:
                raise ConfigError(f"{key}: no step {step!r} (steps: {', '.join(plans)})")
            outputs = plans[step].component.factory.component_spec.outputs or {}
            if output not in outputs:
                raise ConfigError(
                    f"{key}: step {step!r} has no output {output!r} (it has {', '.join(outputs)})"
                )
        for other in plan.after:
            if other not in plans:
                raise ConfigError(f"{plan.key}.after: no step {other!r} (steps: {', '.join(plans)})")


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


def step_entries(cfg: DictConfig, sweeping: bool) -> dict[str, tuple[str, DictConfig]]:
    """Step name → (config key, entry): ``steps``, for a sweep also ``sweep.steps``, then the enabled
    release steps (:mod:`pipeline_sdk.release_steps`)."""
    entries = {str(name): (f"steps.{name}", entry) for name, entry in cfg.steps.items()}
    extra = [(str(n), (f"sweep.steps.{n}", e)) for n, e in cfg.sweep.steps.items()] if sweeping else []
    for name, (key, entry) in [*extra, *release_entries(cfg, sweeping).items()]:
        if name in entries:
            raise ConfigError(f"{key}: a step named {name!r} exists in {entries[name][0]}; rename one")
        entries[name] = (key, entry)
    return entries


def plan_steps(
    cfg: DictConfig, components: Mapping[str, LoadedComponent], sweep: SweepPlan | None = None
) -> list[StepPlan]:
    """The configured steps, checked against their components, in an order kfp can build them in."""
    if not cfg.steps:
        raise ConfigError("steps: the pipeline has no steps")
    plans = {
        name: _plan_one(name, key, entry, components[name])
        for name, (key, entry) in step_entries(cfg, sweep is not None).items()
    }
    for name in set(plans) & {REGISTER_STEP, DEPLOY_STEP}:
        plans[name] = dataclasses.replace(plans[name], constants=release_constants(cfg, name))
    for name, plan in plans.items():
        job = custom_job_settings(plan.key, plan.settings, cfg.gcp.pipeline_root)
        plans[name] = dataclasses.replace(plan, custom_job=job)
    _check_references(plans)
    ordered = _in_order(plans)
    return _staged(cfg, ordered, sweep) if sweep is not None else ordered


def _staged(cfg: DictConfig, ordered: list[StepPlan], sweep: SweepPlan) -> list[StepPlan]:
    """``ordered`` with each step's stage set for ``sweep``; a sweep step reading a swept parameter, or a
    step reading a sweep step, is an error."""
    swept = set(sweep.parameters)
    release = {p.name for p in ordered} & {REGISTER_STEP, DEPLOY_STEP}  # after the trials, as sweep steps
    after_steps = {str(name) for name in cfg.sweep.steps} | release
    trial: set[str] = set()
    staged: list[StepPlan] = []
    for plan in ordered:
        if plan.name in after_steps:
            reads = sorted(swept & set(plan.parameters.values()))
            if reads:
                raise ConfigError(
                    f"{plan.key}: reads the swept parameter params.{reads[0]}; a sweep step "
                    "runs once after all trials, so it cannot depend on one trial's value"
                )
            for input_name, (step, _) in plan.artifacts.items():
                spec = plan.component.factory.component_spec.inputs[input_name]
                if step in trial and not spec.is_artifact_list:
                    raise ConfigError(
                        f"{plan.key}.inputs.{input_name}: the trials' outputs arrive as a "
                        f"list, but {plan.component.path} declares {input_name!r} as one artifact "
                        "(declare it a list: isArtifactList in a KFP v2 component YAML)"
                    )
            stage = AFTER
            plan = dataclasses.replace(
                plan, constants={**plan.constants, **_selection_inputs(cfg, plan, sweep)}
            )
        elif plan.upstream & after_steps:
            raise ConfigError(
                f"{plan.key}: reads the sweep step {sorted(plan.upstream & after_steps)[0]!r}, "
                "which runs only in sweeps; move the step under sweep.steps"
            )
        elif swept & set(plan.parameters.values()) or plan.upstream & trial:
            stage = TRIAL
            trial.add(plan.name)
        else:
            stage = ONCE
        staged.append(dataclasses.replace(plan, stage=stage))
    return staged


def _selection_inputs(cfg: DictConfig, plan: StepPlan, sweep: SweepPlan) -> dict[str, str]:
    """The :data:`SELECTION_INPUTS` that the sweep step's component declares, with the sweep's values, and
    the :data:`~pipeline_sdk.experiment_trials.EXPERIMENT_INPUTS` that ``gcp.experiment`` fills."""
    values = {
        "selection_metric": sweep.metric,
        "selection_goal": sweep.goal,
        "trial_parameters": json.dumps(list(sweep.trials), ensure_ascii=False),
    }
    declared = plan.component.factory.component_spec.inputs or {}
    wired = set(plan.parameters) | set(plan.artifacts)
    constants = experiment_inputs(cfg, plan.key, declared, wired)
    for name in SELECTION_INPUTS:
        if name not in declared:
            continue
        where = f"{plan.key}.inputs.{name}"
        if name in plan.parameters or name in plan.artifacts:
            raise ConfigError(f"{where}: filled from the sweep (sweep.select and the trials); remove it here")
        if declared[name].type != "String":
            raise ConfigError(
                f"{where}: {plan.component.path} declares it {declared[name].type}; it is a String"
            )
        constants[name] = values[name]
    return constants


def parameter_types(cfg: DictConfig, plans: list[StepPlan]) -> dict[str, type]:
    """Each pipeline parameter's type: that of the component inputs it feeds, which must agree."""
    types: dict[str, type] = {}
    fed_by: dict[str, str] = {}
    for plan in plans:
        for input_name, param in plan.parameters.items():
            where = f"{plan.key}.inputs.{input_name}"
            if param not in cfg.params:
                raise ConfigError(f"{where}: no parameter params.{param} (add it under params)")
            kind = PARAMETER_TYPES[plan.component.factory.component_spec.inputs[input_name].type]
            if types.setdefault(param, kind) is not kind:
                raise ConfigError(
                    f"{where}: params.{param} feeds {kfp_type_name(kind)} here but {kfp_type_name(types[param])} "
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


def _add_task(plan: StepPlan, params: Mapping[str, Any], tasks: Mapping[str, Any], caching: bool) -> Any:
    arguments = {i: params[p] for i, p in plan.parameters.items()}
    arguments.update({i: tasks[s].outputs[o] for i, (s, o) in plan.artifacts.items()})
    arguments.update(plan.constants)
    plan.component.factory.component_spec.name = plan.name  # the task is named after the step
    job = plan.custom_job
    task = (wrap(plan.component.factory, job) if job else plan.component.factory)(**arguments)
    if plan.after:
        task.after(*(tasks[name] for name in plan.after))
    step_caching = plan.settings.caching
    task.set_caching_options(caching if step_caching is None else bool(step_caching))
    if plan.settings.retries:
        task.set_retry(num_retries=plan.settings.retries)
    if job is None:  # a CustomJob's machine is in its worker pools, not on the launcher's task
        apply_resources(task, plan.key, plan.settings.resources)
    return task


class _Collected:
    """A trial step seen from after the loop: each output is the list of every trial's output."""

    def __init__(self, task: Any) -> None:
        self._task = task

    @property
    def outputs(self) -> Mapping[str, Any]:
        from kfp import dsl

        return {key: dsl.Collected(channel) for key, channel in self._task.outputs.items()}


def loop_items(trials: list[dict[str, Any]]) -> list[str]:
    """The ParallelFor items of ``trials``: each trial's values as one JSON *string*.

    kfp reads a field of a loop item with ``parseJson(string_value)["NAME"]``. A JSON object item (kfp's own
    form for a list of dicts) has no string value on Vertex AI: the loop fails with "Failed to parseJson from
    string" (kubeflow/pipelines#12191); a JSON string item parses on Vertex AI and on the KFP backend
    (docs/vertex-behaviour.md, loop items).
    """
    return [json.dumps(trial, ensure_ascii=False) for trial in trials]


def _loop_item(item: Any, name: str, kind: type) -> Any:
    """The loop item's field ``name``, typed as the parameter (kfp types it as the item, a String). Built
    directly rather than as ``item.NAME``, which would return the channel's own attribute for a parameter
    called ``name`` or ``pattern``."""
    from kfp.dsl.for_loop import LoopArgumentVariable

    field = LoopArgumentVariable(loop_argument=item, subvar_name=name)
    field.channel_type = kfp_type_name(kind).split()[-1]
    return field


def _build_sweep(
    cfg: DictConfig,
    plans: list[StepPlan],
    params: dict[str, Any],
    items: list[dict[str, Any]],
    types: Mapping[str, type],
) -> None:
    from kfp import dsl

    caching, tasks = bool(cfg.caching), {}
    for plan in (p for p in plans if p.stage == ONCE):
        tasks[plan.name] = _add_task(plan, params, tasks, caching)
    trial_steps = [p for p in plans if p.stage == TRIAL]
    with dsl.ParallelFor(items=loop_items(items), parallelism=cfg.sweep.max_parallel) as item:
        trial_params = {**params, **{name: _loop_item(item, name, types[name]) for name in items[0]}}
        for plan in trial_steps:
            tasks[plan.name] = _add_task(plan, trial_params, tasks, caching)
    for plan in trial_steps:
        tasks[plan.name] = _Collected(tasks[plan.name])
    for plan in (p for p in plans if p.stage == AFTER):
        spec = plan.component.factory.component_spec.inputs
        # the best of the trials that succeeded is still worth picking when some trials failed
        after_failures = all(
            spec[i].optional and s in {p.name for p in trial_steps} for i, (s, _) in plan.artifacts.items()
        )
        if after_failures and wants_custom_job(plan.settings):
            raise ConfigError(
                f"{plan.key}: a sweep step that runs after failed trials cannot be a Vertex AI CustomJob (kfp "
                "cannot let GCPC's launcher task ignore upstream failures); drop its replica_count, "
                "machine_type and scheduling settings"
            )
        task = tasks[plan.name] = _add_task(plan, params, tasks, caching)
        if after_failures:
            task.ignore_upstream_failure()


def build_pipeline(
    cfg: DictConfig,
    plans: list[StepPlan],
    values: Mapping[str, Any],
    types: Mapping[str, type],
    trials: list[dict[str, Any]] | None = None,
) -> Any:
    """The kfp pipeline (a GraphComponent) of ``plans`` with ``values`` as parameter defaults.

    With ``trials`` (each trial's values of the swept parameters, which are then not pipeline
    parameters), the steps run by stage: once, per trial in a ParallelFor, after the trials.
    """
    from kfp import dsl

    names = [name for name in values if not trials or name not in trials[0]]

    def body(*channels: Any) -> None:
        params = dict(zip(names, channels, strict=True))
        with notified(cfg):  # every task inside the notifications' exit handler, when they are on
            if trials:
                _build_sweep(cfg, plans, params, trials, types)
                return
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
        raise ConfigError(f"steps: kfp cannot wire the pipeline: {one_line(e)}") from None


__all__ = [
    "AFTER",
    "ONCE",
    "SELECTION_INPUTS",
    "TRIAL",
    "StepPlan",
    "build_pipeline",
    "loop_items",
    "parameter_types",
    "plan_steps",
    "step_entries",
]
