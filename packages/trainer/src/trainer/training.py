"""The training run: compose the packaged config, build the data, model and Lightning trainer, fit, test and
write the model artifact."""

from __future__ import annotations

import copy
import inspect
import logging
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf, open_dict

from trainer.artifacts import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    LAST_CHECKPOINT,
    METRICS_FILE,
    MODEL_FILE,
    check_creatable_dir,
    claim_output_dir,
)
from trainer.atomic import atomic_write, write_json, write_text
from trainer.cluster import ClusterSpec, cluster_from_env
from trainer.config_checks import check_config
from trainer.errors import TrainerError
from trainer.interrupts import interrupts_deferred
from trainer.kfp_outputs import check_kfp_config
from trainer.replicas import log_rank_digest, network_state

if TYPE_CHECKING:
    import lightning.pytorch as pl

    from trainer.callbacks import BestWeights, RunHistory
    from trainer.datamodule import IdxDataModule
    from trainer.module import ClassifierModule

log = logging.getLogger("trainer")

# metrics.json keys also reported as KFP Metrics (Vertex AI shows and compares them across runs)
KFP_SCALARS = ("test_accuracy", "test_loss", "val_accuracy", "best_val_accuracy")


def compose_config(overrides: Sequence[str] = (), config_name: str = "train") -> DictConfig:
    """Compose the trainer's packaged Hydra config with command-line style ``overrides``."""
    from hydra import compose, initialize_config_module

    with initialize_config_module(config_module="trainer.conf", version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides))


def train(cfg: DictConfig) -> dict[str, Any]:
    """Train, test and write the model artifact for a composed config; return what ``metrics.json`` holds.

    Config values are checked first; nothing is written before the data, model and Lightning ``Trainer``
    have been built. Raises :class:`~trainer.errors.TrainerError` for problems the user can fix (bad config
    values, missing data, unwritable output directory, NaN loss, out of memory).
    """
    cfg = copy.deepcopy(cfg)  # filled in with the dataset's num_classes, image_size and channels below
    check_config(cfg)
    check_kfp_config(cfg.get("kfp") or {})
    cluster = cluster_from_env()
    extras = cfg.get("extras") or {}
    if extras.get("print_config"):
        print(OmegaConf.to_yaml(cfg))
    with warnings.catch_warnings():
        if extras.get("ignore_warnings"):
            warnings.simplefilter("ignore")
        return _train(cfg, cluster)


@dataclass
class _Run:
    """What one training run is made of, built from the config before anything is written."""

    trainer: pl.Trainer
    model: ClassifierModule
    datamodule: IdxDataModule
    history: RunHistory
    best: BestWeights
    precision: str
    weights_sha256: str = ""  # rank 0's digest of the network at the end of fitting


def _train(cfg: DictConfig, cluster: ClusterSpec | None) -> dict[str, Any]:
    import lightning.pytorch as pl

    from trainer.gpu_probe import use_cheap_cuda_check

    use_cheap_cuda_check()
    if cfg.get("seed") is not None:
        pl.seed_everything(int(cfg.seed), workers=True, verbose=False)
    output_dir = Path(cfg.paths.output_dir)
    check_creatable_dir(output_dir, "output directory")
    ckpt_path = _resume_path(cfg, output_dir)
    run = _build_run(cfg, output_dir, cluster)
    # on a cluster every node runs this; the primary node's launching process holds the directory
    with claim_output_dir(output_dir, primary=cluster is None or cluster.node_rank == 0):
        _fit_and_test(run, ckpt_path)
        metrics = _metrics(cfg, run)
        if run.trainer.is_global_zero:
            _publish(output_dir, cfg, run.model, metrics)
    return metrics


def _resume_path(cfg: DictConfig, output_dir: Path) -> str | None:
    explicit = cfg.get("ckpt_path")
    if explicit:
        if not Path(explicit).is_file():
            raise TrainerError(f"ckpt_path {explicit} does not exist")
        return str(explicit)
    last = output_dir / CHECKPOINT_DIR / LAST_CHECKPOINT
    if not cfg.get("resume", True) or not last.is_file():
        return None
    problem = _unreadable(last)
    if problem:
        # every rank reads the same file, so every rank makes the same choice
        log.warning("%s cannot be read (%s); training starts afresh and overwrites it", last, problem)
        return None
    log.info("resuming from %s", last)
    return str(last)


def _unreadable(path: Path) -> str | None:
    """Why ``path`` is not a complete Lightning checkpoint, or ``None`` when it is one.

    A truncated or half-copied file fails here (torch's zip format keeps its index at the end); ``mmap``
    leaves the tensor data unread.
    """
    import torch

    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # any failure to load means: do not resume from it
        return " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
    if not isinstance(checkpoint, dict) or not {"epoch", "state_dict"} <= checkpoint.keys():
        return "not a Lightning checkpoint"
    return None


def _build(node: Any, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate`` whose failures (bad config values) become one-line :class:`TrainerError`s."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    try:
        return instantiate(node, **kwargs)
    except InstantiationException as exc:
        cause = exc.__cause__
        if isinstance(cause, TrainerError):
            raise cause from None
        target = node.get("_target_", "?") if hasattr(node, "get") else "?"
        detail = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc).splitlines()[0]
        raise TrainerError(f"cannot build {target}: {' '.join(detail.split())}") from None


def _instantiate_all(group: DictConfig | None) -> list[Any]:
    if not group:
        return []
    return [_build(node) for node in group.values() if isinstance(node, DictConfig) and "_target_" in node]


def _progress_mode(cfg: DictConfig) -> str:
    mode = str(cfg.get("progress", "auto"))
    if mode not in ("auto", "bar", "plain", "none"):
        raise TrainerError(f"progress={mode} is not one of auto, bar, plain, none")
    if mode == "auto":
        return "bar" if sys.stdout.isatty() else "plain"
    return mode


def _callbacks(cfg: DictConfig, output_dir: Path, progress: str) -> tuple[list[Any], RunHistory, BestWeights]:
    from lightning.pytorch.callbacks import ModelCheckpoint

    from trainer.callbacks import BestWeights, NonFiniteLossGuard, RunHistory
    from trainer.progress import LossProgressBar, PlainProgress

    callbacks = _instantiate_all(cfg.get("callbacks"))
    if not any(isinstance(c, ModelCheckpoint) for c in callbacks):
        # resume after preemption depends on last.ckpt, so it is written even with callbacks=none
        callbacks.append(
            ModelCheckpoint(
                dirpath=output_dir / CHECKPOINT_DIR,
                filename=Path(LAST_CHECKPOINT).stem,
                save_top_k=1,
                enable_version_counter=False,
            )
        )
    history, best = RunHistory(), BestWeights()
    callbacks += [history, best, NonFiniteLossGuard()]
    if progress == "plain":
        callbacks.append(PlainProgress())
    elif progress == "bar":
        callbacks.append(LossProgressBar())
    return callbacks, history, best


def _build_run(cfg: DictConfig, output_dir: Path, cluster: ClusterSpec | None) -> _Run:
    """Load the data and build the model and Lightning ``Trainer``; writes nothing."""
    from trainer.checkpoint_io import AtomicCheckpointIO
    from trainer.cluster import CLUSTER_SPEC, VertexEnvironment
    from trainer.precision import resolve_precision
    from trainer.vertex_tensorboard import vertex_tensorboard_logger

    progress = _progress_mode(cfg)
    datamodule = _build(cfg.data, _convert_="object")
    datamodule.prepare_data()
    dataset = datamodule.dataset
    with open_dict(cfg):
        cfg.data.num_classes = dataset.num_classes
        cfg.data.image_size = dataset.image_size
        cfg.data.channels = dataset.channels
        if "input_size" in cfg.model.net and cfg.model.net.input_size is None:
            # a fully connected network's input is the flattened image
            cfg.model.net.input_size = dataset.channels * dataset.image_size**2
    model = _build(cfg.model, _convert_="object")
    callbacks, history, best = _callbacks(cfg, output_dir, progress)
    loggers = _instantiate_all(cfg.get("logger"))
    vertex_tensorboard = vertex_tensorboard_logger()
    if vertex_tensorboard is not None:
        loggers.append(vertex_tensorboard)
    trainer_cfg = OmegaConf.to_container(cfg.trainer, resolve=True)
    assert isinstance(trainer_cfg, dict)
    trainer_cfg["precision"] = resolve_precision(trainer_cfg.get("precision"), trainer_cfg.get("accelerator"))
    plugins: list[Any] = [AtomicCheckpointIO()]
    if cluster is not None:
        if trainer_cfg.get("num_nodes", cluster.num_nodes) != cluster.num_nodes:
            raise TrainerError(
                f"trainer.num_nodes={trainer_cfg['num_nodes']} but {CLUSTER_SPEC} describes "
                f"{cluster.num_nodes} training nodes"
            )
        trainer_cfg["num_nodes"] = cluster.num_nodes
        plugins.append(VertexEnvironment(cluster))
    trainer = _build(
        trainer_cfg,
        plugins=plugins,
        callbacks=callbacks,
        logger=loggers or False,
        enable_progress_bar=progress == "bar",
        use_distributed_sampler=False,
    )
    datamodule.device_batch_size(trainer.num_devices * trainer.num_nodes)  # refuses an uneven split now
    return _Run(trainer, model, datamodule, history, best, str(trainer_cfg["precision"]))


def _fit_and_test(run: _Run, ckpt_path: str | None) -> None:
    import torch

    trainer = run.trainer
    fit_kwargs: dict[str, Any] = {"ckpt_path": ckpt_path}
    if "weights_only" in inspect.signature(trainer.fit).parameters:
        fit_kwargs["weights_only"] = True  # our checkpoints hold only tensors and plain values
    try:
        trainer.fit(run.model, datamodule=run.datamodule, **fit_kwargs)
        # before testing, which hands every rank rank 0's state again and so would hide ranks that drifted
        run.weights_sha256 = log_rank_digest(trainer, run.model.net)
        trainer.test(run.model, datamodule=run.datamodule, verbose=False)
    except torch.OutOfMemoryError:
        raise TrainerError(
            f"out of memory with data.batch_size={run.datamodule.batch_size}; try a smaller data.batch_size"
        ) from None
    except SystemExit:
        # Lightning answers Ctrl-C by shutting down and exiting 1; to callers it is an interruption
        if trainer.interrupted:
            raise KeyboardInterrupt from None
        raise


def _metrics(cfg: DictConfig, run: _Run) -> dict[str, Any]:
    """The content of ``metrics.json``; ``val_accuracy`` and the test figures describe the saved weights."""
    from trainer.preprocess import PIXEL_SCALE
    from trainer.provenance import provenance

    test = run.trainer.callback_metrics
    history, best, datamodule = run.history, run.best, run.datamodule
    epochs = len(history.epoch_times_s)
    return {
        "test_accuracy": float(test["test/acc"]),
        "test_loss": float(test["test/loss"]),
        "val_accuracy": best.best_score,
        "best_val_accuracy": history.best_val_accuracy,
        "saved_epoch": best.best_epoch if best.best_epoch is not None else epochs,
        "model_selection": "best_val_accuracy" if best.best_epoch is not None else "last_epoch",
        "epochs": epochs,
        "epoch_times_s": history.epoch_times_s,
        "train_time_s": round(sum(history.epoch_times_s), 4),
        "val_accuracy_per_epoch": history.val_accuracy,
        "confusion_matrix": run.model.confusion_matrix(),
        "class_names": list(datamodule.dataset.class_names),
        "preprocessing": {"pixel_scale": PIXEL_SCALE, "mean": datamodule.mean, "std": datamodule.std},
        "precision": run.precision,
        "device": str(run.trainer.strategy.root_device.type),
        "world_size": run.trainer.world_size,
        "weights_sha256": run.weights_sha256,
        "provenance": provenance(str(cfg.data.data_dir), datamodule.dataset.manifest),
    }


def _publish(output_dir: Path, cfg: DictConfig, model: Any, metrics: dict[str, Any]) -> None:
    """Write the model artifact and, inside a pipeline, the KFP outputs."""
    import torch

    from trainer.kfp_outputs import write_kfp_outputs

    state = network_state(model.net)
    with interrupts_deferred():
        atomic_write(output_dir / MODEL_FILE, lambda f: torch.save(state, f))
        write_text(output_dir / CONFIG_FILE, OmegaConf.to_yaml(cfg, resolve=True))
        write_json(output_dir / METRICS_FILE, metrics)
        if cfg.get("kfp"):
            scalars = {k: float(metrics[k]) for k in KFP_SCALARS if metrics.get(k) is not None}
            write_kfp_outputs(cfg.kfp, scalars, metrics["class_names"], metrics["confusion_matrix"])
