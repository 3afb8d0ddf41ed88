"""Ctrl-C at a chosen moment of start-up: the process sends itself SIGINT when the module that
``CTRL_C_ON_IMPORT`` names is first looked up (a run started with this directory on ``PYTHONPATH``)."""

from __future__ import annotations

import os
import signal
import sys
from importlib.machinery import ModuleSpec
from typing import Any


class _CtrlCOnImport:
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if name == os.environ.get("CTRL_C_ON_IMPORT"):
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None  # the other finders import it


sys.meta_path.insert(0, _CtrlCOnImport())
