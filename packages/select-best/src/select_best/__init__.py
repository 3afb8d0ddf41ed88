"""Pick a sweep's best trial by a validation metric and publish its model, metrics, table and report."""

from select_best.__about__ import __version__
from select_best.criterion import Criterion
from select_best.errors import SelectError
from select_best.inputs import SelectionInputs, parse_trial_parameters, selection_inputs
from select_best.locations import Location, Locations, from_executor_input, from_paths
from select_best.outputs import publish
from select_best.selection import Selection, select
from select_best.trials import Trial, load_trial, load_trials

__all__ = [
    "Criterion",
    "Location",
    "Locations",
    "SelectError",
    "Selection",
    "SelectionInputs",
    "Trial",
    "__version__",
    "from_executor_input",
    "from_paths",
    "load_trial",
    "load_trials",
    "parse_trial_parameters",
    "publish",
    "select",
    "selection_inputs",
]
