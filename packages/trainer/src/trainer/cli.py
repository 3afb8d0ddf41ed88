"""The ``trainer`` console script: a Hydra application around :func:`trainer.train`.

Every argument is a Hydra override (``trainer data.data_dir=DIR paths.output_dir=DIR trainer.max_epochs=5``).
Configuration mistakes print Hydra's one-line message; problems with the input or the environment print
``trainer: error: ...``; both exit 1 without a traceback. Ctrl-C exits 130, leaving only complete files
(the last finished epoch's checkpoint, from which the next run resumes).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainer.errors import TrainerError
from trainer.executor_input import hydra_safe_args
from trainer.interrupts import interrupts_deferred

log = logging.getLogger("trainer")

# optional groups whose default is "none selected"; Hydra only accepts ~group for deselecting them
OPTIONAL_GROUPS = ("experiment", "debug")
_NONE_VALUES = ("null", "'null'", '"null"', "''", '""')


class _DropAdverts(logging.Filter):
    """Drop Lightning's "Tip: try installing litlogger" line, printed on every run without that logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "litlogger" not in str(record.msg)


def log_lightning_once() -> None:
    """Let Lightning's log records reach the output through the root logger's handlers only.

    Importing ``lightning`` gives its logger a stderr handler of its own while the records also propagate to
    the root logger, to which Hydra's job logging gave a stdout handler: a log that captures both streams
    (``pipeline-sdk run``'s ``log.txt``, Vertex AI's) held every Lightning line twice. Handlers that
    Hydra's config attaches (to the root logger, or to Lightning's as a ``FileHandler`` or other subclass) stay.
    """
    import lightning  # noqa: F401  (its import adds the handlers removed here)

    if not logging.getLogger().handlers:
        return  # nothing else would print Lightning's records
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logger = logging.getLogger(name)
        own = [h for h in logger.handlers if type(h) is logging.StreamHandler and h.stream is sys.stderr]
        for handler in own:
            logger.removeHandler(handler)
        if own:
            logger.propagate = True


def _job_output_dir(cfg: Any) -> None:
    """In a multirun, give each job its own artifact directory (the sweep subdirectory)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode
    from omegaconf import open_dict

    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode == RunMode.MULTIRUN:
        with open_dict(cfg):
            cfg.paths.output_dir = hydra_cfg.runtime.output_dir


def _run(cfg: Any) -> float | None:
    """The Hydra task: train, report, and return the figure a sweeper may optimise."""
    # torch's C extension imports numpy as it initialises and discards whatever that import raises: a Ctrl-C
    # there was lost (the run went on) or left numpy half imported for a later import to fail on. Held until
    # the imports are complete, it ends the run right after them
    with interrupts_deferred():
        from trainer.training import train

        log_lightning_once()
    _job_output_dir(cfg)
    try:
        metrics = train(cfg)
    except TrainerError as exc:
        print(f"trainer: error: {exc}", file=sys.stderr)
        sys.exit(1)
    from lightning.pytorch.utilities import rank_zero_info

    rank_zero_info(
        f"test accuracy {metrics['test_accuracy']:.4f}, test loss {metrics['test_loss']:.4f}, "
        f"training {metrics['train_time_s']:.1f} s over {metrics['epochs']} epochs; artifact in {cfg.paths.output_dir}"
    )
    # the saved model's validation accuracy: a sweeper that optimised the test accuracy would select models
    # on the test set; None when there is no validation split (data.val_size=0)
    return metrics["val_accuracy"]


def _hydra_app() -> Callable[[], Any]:
    import hydra

    return hydra.main(config_path="conf", config_name="train", version_base="1.3")(_run)


def deselect_null_groups(args: list[str]) -> list[str]:
    """Rewrite ``experiment=null`` (or an empty/quoted null value, as pipelines pass it) to ``~experiment``."""
    rewritten = []
    for arg in args:
        key, sep, value = arg.partition("=")
        rewritten.append(f"~{key}" if sep and key in OPTIONAL_GROUPS and value in _NONE_VALUES else arg)
    return rewritten


CONF = Path(__file__).with_name("conf")
_OPTION = re.compile(r"^[A-Za-z0-9_.-]+$")


def check_group_options(args: list[str]) -> None:
    """An unknown option of a config group (``experiment=nope``) is one line naming the options there are
    (Hydra prints a dozen lines for it). With another config source on the command line (a search path or
    config directory of the user's own) the options are Hydra's to find."""
    if any(
        arg.startswith(
            ("hydra.searchpath", "+hydra.searchpath", "-cd", "--config-dir", "-cp", "--config-path")
        )
        for arg in args
    ):
        return
    for arg in args:
        key, sep, value = arg.lstrip("+").partition("=")
        group = key.split("@", 1)[0]
        if not sep or group.startswith(("hydra", "~")) or not _OPTION.match(value) or value in _NONE_VALUES:
            continue
        directory = CONF / group
        if directory.is_dir() and not (directory / f"{value}.yaml").is_file():
            options = sorted(p.stem for p in directory.glob("*.yaml"))
            raise TrainerError(
                f"{arg}: config group {group!r} has no option {value!r} (options: {', '.join(options)})"
            )


def main() -> None:
    """Console-script entry point."""
    try:
        try:
            sys.argv[1:] = hydra_safe_args(deselect_null_groups(sys.argv[1:]))
            check_group_options(sys.argv[1:])
        except TrainerError as exc:
            print(f"trainer: error: {exc}", file=sys.stderr)
            sys.exit(1)
        logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_DropAdverts())
        _hydra_app()()
    except KeyboardInterrupt:
        print("trainer: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
