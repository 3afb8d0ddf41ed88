"""``select-best``: the Hydra application behind a sweep's selection step.

Inside a pipeline: ``select-best kfp.executor_input='{{$}}'`` (the component YAML passes the executor input,
which lists the trials' model artifacts and the outputs). By hand: ``select-best trials=[DIR,DIR]
paths.output_dir=OUT``. The best trial has the best value of the selection metric (``select.metric`` /
the ``selection_metric`` parameter, by default the highest ``val_accuracy``), ties to the lower trial
number; test metrics never choose. Given an experiment (``experiment.name`` / the ``experiment``
parameter) and a project, every trial is recorded as a Vertex AI Experiment run before anything is published.
Errors print one line and exit 1; Ctrl-C exits 130.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from select_best.errors import SelectError

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from select_best.experiment import ExperimentSettings
    from select_best.selection import Selection

PROG = "select-best"
EXECUTOR_INPUT_ARG = "kfp.executor_input="


def _fail(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    sys.exit(1)


def quote_executor_input(args: list[str]) -> list[str]:
    """Hand Hydra the executor input as a single-quoted string it returns verbatim.

    The backend substitutes raw JSON for ``{{$}}`` inside ``'...'``; the JSON is data, so it is re-written
    in a form that holds no quote, backslash-before-quote or ``${`` (see :func:`locations.hydra_inert`).
    """
    from select_best.locations import hydra_inert

    rewritten = []
    for arg in args:
        if arg.startswith(EXECUTOR_INPUT_ARG):
            value = arg[len(EXECUTOR_INPUT_ARG) :]
            if len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            if value.startswith("{{$"):
                raise SelectError(
                    f"kfp.executor_input is {value!r}: the pipeline backend did not substitute the placeholder"
                )
            if value not in ("", "null"):
                arg = f"{EXECUTOR_INPUT_ARG}'{hydra_inert(value)}'"
        rewritten.append(arg)
    return rewritten


def _locations(cfg: DictConfig):
    from select_best import locations

    executor_input = cfg.kfp.executor_input
    trials = list(cfg.trials or [])
    output_dir = cfg.paths.output_dir
    if executor_input:
        if trials or output_dir:
            raise SelectError("give either kfp.executor_input (in a pipeline) or trials and paths.output_dir")
        where = locations.from_executor_input(str(executor_input))
    elif not trials or not output_dir:
        raise SelectError(
            "nothing to compare: give trials=[DIR,...] and paths.output_dir=DIR, or kfp.executor_input"
        )
    else:
        where = locations.from_paths([str(t) for t in trials], str(output_dir))
    locations.check_apart(where)
    return where


def _record(experiment: ExperimentSettings, selection: Selection) -> str | None:
    """Record the trials in the experiment when there is one and a project; the line to print, if any."""
    if not experiment.records:
        return experiment.note
    from select_best.experiment_runs import record_trials

    return record_trials(experiment, selection)


def _app(cfg: DictConfig) -> None:
    from omegaconf.errors import OmegaConfBaseException

    from select_best.experiment import experiment_settings
    from select_best.inputs import selection_inputs
    from select_best.outputs import publish
    from select_best.selection import select
    from select_best.trials import load_trials

    try:
        where = _locations(cfg)
        settings = selection_inputs(cfg.select, where)
        experiment = experiment_settings(cfg.experiment, where.parameter_values)
        metric = settings.criterion.metric
        selection = select(load_trials(where.trials, metric), settings.criterion, settings.trial_parameters)
        recorded = _record(experiment, selection)  # before publishing: a failure publishes nothing
        rendered = publish(selection, where)
    except (SelectError, OmegaConfBaseException) as exc:
        _fail(str(exc))
    best = selection.best
    score = settings.criterion.format(best.metric(metric) or 0.0)
    print(rendered.markdown, end="")
    print(f"best: trial {best.number} ({metric} {score}) -> {where.outputs['best_model'].path}", flush=True)
    if recorded:
        print(recorded, flush=True)


def main() -> None:
    """Console-script entry point."""
    try:
        try:
            sys.argv[1:] = quote_executor_input(sys.argv[1:])
        except SelectError as exc:
            _fail(str(exc))
        import hydra  # inside the guard, so Ctrl-C during start-up is handled too

        hydra.main(config_path="conf", config_name="select", version_base="1.3")(_app)()
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; outputs are complete or absent", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
