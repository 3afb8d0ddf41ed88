"""Pick a sweep's best trial by validation accuracy and publish its model, metrics, table and report."""

from select_best.__about__ import __version__
from select_best.errors import SelectError
from select_best.locations import Location, Locations, from_executor_input, from_paths
from select_best.outputs import publish
from select_best.selection import RULE, Selection, select
from select_best.trials import Trial, load_trial, load_trials

__all__ = [
    "RULE",
    "Location",
    "Locations",
    "SelectError",
    "Selection",
    "Trial",
    "__version__",
    "from_executor_input",
    "from_paths",
    "load_trial",
    "load_trials",
    "publish",
    "select",
]
