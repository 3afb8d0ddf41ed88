"""Write the outputs: the best model's files, the Metrics, the report, the table and the ExecutorOutput.

Everything is rendered before the first file is written; a failure while writing removes what this run
wrote, so an output is either complete or absent.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from select_best import atomic, report, table
from select_best.errors import SelectError
from select_best.locations import BEST_MODEL_OUTPUT, METRICS_OUTPUT, REPORT_OUTPUT, TABLE_OUTPUT, Locations
from select_best.selection import Selection
from select_best.trials import CONFIG_FILE, METRICS_FILE, MODEL_FILE, is_regular_file

# copied from the best trial; checkpoints/ (for resuming that trial) stays behind
COPIED_FILES = (MODEL_FILE, CONFIG_FILE, METRICS_FILE)
SELECTION_FILE = "selection.json"


@dataclass(frozen=True)
class Rendered:
    markdown: str
    html: str
    metrics: dict[str, float]
    selection: dict[str, Any]


def metrics_metadata(selection: Selection) -> dict[str, float]:
    """The ``metrics`` output (system.Metrics, numbers only): the winner's accuracies and value of the
    selection metric, and the sweep's counts."""
    best = selection.best
    metric = selection.criterion.metric
    scalars = {"val_accuracy": best.val_accuracy, "test_accuracy": best.test_accuracy}
    scalars.setdefault(metric, best.metric(metric))
    return {
        **{k: float(v) for k, v in scalars.items() if v is not None},
        "best_trial": float(best.number),
        "trials": float(len(selection.trials)),
        "failed_trials": float(len(selection.failed)),
    }


def render(selection: Selection) -> Rendered:
    best = selection.best
    metric = selection.criterion.metric
    record = {
        "best_trial": best.number,
        "source": best.location.uri,
        "val_accuracy": best.val_accuracy,
        "test_accuracy": best.test_accuracy,
        metric: best.metric(metric),
        "parameters": selection.parameter_values(best),
        "trials": len(selection.trials),
        "failed_trials": [t.number for t in selection.failed],
        "selection_metric": metric,
        "selection_goal": selection.criterion.goal,
        "rule": selection.criterion.short_rule,
    }
    return Rendered(table.markdown(selection), report.render(selection), metrics_metadata(selection), record)


def _executor_output(locations: Locations, rendered: Rendered) -> dict[str, Any]:
    metadata = {
        BEST_MODEL_OUTPUT: {k: v for k, v in rendered.selection.items() if k != "failed_trials"},
        METRICS_OUTPUT: rendered.metrics,
        REPORT_OUTPUT: {},
        TABLE_OUTPUT: {},
    }
    return {
        "artifacts": {
            name: {"artifacts": [{"name": name, "uri": locations.outputs[name].uri, "metadata": md}]}
            for name, md in metadata.items()
        }
    }


def _ensure_dir(directory: Path, created: list[Path]) -> None:
    """``mkdir -p`` that records each directory it creates, outermost first."""
    missing = []
    while not directory.is_dir():
        if directory.exists() or directory.is_symlink():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(directory))
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir()
        created.append(path)


def _remove(paths: list[Path]) -> None:
    for path in reversed(paths):
        with contextlib.suppress(OSError):
            path.rmdir() if path.is_dir() else path.unlink()


def publish(selection: Selection, locations: Locations) -> Rendered:
    """Write every output of ``selection`` to ``locations``; raise :class:`SelectError` if one cannot be."""
    rendered = render(selection)
    model_dir = locations.outputs[BEST_MODEL_OUTPUT].path
    source = selection.best.location.path
    writes: list[tuple[Path, Any]] = [
        *((model_dir / name, source / name) for name in COPIED_FILES if is_regular_file(source / name)),
        (model_dir / SELECTION_FILE, rendered.selection),
        (locations.outputs[METRICS_OUTPUT].path, rendered.metrics),
        (locations.outputs[REPORT_OUTPUT].path, rendered.html),
        (locations.outputs[TABLE_OUTPUT].path, rendered.markdown),
    ]
    if locations.output_file is not None:
        writes.append((locations.output_file, _executor_output(locations, rendered)))
    created: list[Path] = []
    current = model_dir
    try:
        _ensure_dir(model_dir, created)
        for current, content in writes:
            _ensure_dir(current.parent, created)
            existed = current.exists()
            if isinstance(content, Path):
                atomic.copy_file(content, current)
            elif isinstance(content, str):
                atomic.write_text(current, content)
            else:
                atomic.write_json(current, content)
            if not existed:
                created.append(current)
    except OSError as exc:
        _remove(created)
        reason = exc.strerror or str(exc)
        if isinstance(exc, NotADirectoryError) and exc.filename:
            reason = f"{exc.filename} is not a directory"
        raise SelectError(f"cannot write {current}: {reason}") from None
    except BaseException:
        _remove(created)
        raise
    return rendered
