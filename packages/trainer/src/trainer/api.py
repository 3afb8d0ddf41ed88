"""Library entry points: compose the packaged config and train from it."""

from __future__ import annotations

import copy
import inspect
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from trainer.artifacts import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    LAST_CHECKPOINT,
    METRICS_FILE,
    MODEL_FILE,
    atomic_write,
    ensure_writable_dir,
    write_json,
    write_text,
)
from trainer.errors import TrainerError

log = logging.getLogger("trainer")


def compose_config(overrides: Sequence[str] = (), config_name: str = "train") -> DictConfig:
    """Compose the trainer's packaged Hydra config with command-line style ``overrides``."""
    from hydra import compose, initialize_config_module

    with initialize_config_module(config_module="trainer.conf", version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides))


def _check_kfp(cfg: DictConfig) -> None:
    kfp_cfg = cfg.get("kfp") or {}
    if kfp_cfg.get("output_file") and not (
        kfp_cfg.get("metrics_uri") or kfp_cfg.get("classification_metrics_uri")
    ):
        raise TrainerError(
            "kfp.output_file is set but neither kfp.metrics_uri nor kfp.classification_metrics_uri is"
        )


def _resume_path(cfg: DictConfig, output_dir: Path) -> str | None:
    explicit = cfg.get("ckpt_path")
    if explicit:
        if not Path(explicit).is_file():
            raise TrainerError(f"ckpt_path {explicit} does not exist")
        return str(explicit)
    last = output_dir / CHECKPOINT_DIR / LAST_CHECKPOINT
    if cfg.get("resume", True) and last.is_file():
        log.info("resuming from %s", last)
        return str(last)
    return None


def _precision(trainer_cfg: DictConfig) -> str | int:
    import torch

    precision = trainer_cfg.get("precision", "auto")
    if precision != "auto":
        return precision
    accelerator = str(trainer_cfg.get("accelerator", "auto"))
    gpu = accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    return "bf16-mixed" if gpu and torch.cuda.is_bf16_supported() else "32-true"


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


def _callbacks(cfg: DictConfig, output_dir: Path, progress: str) -> tuple[list[Any], Any]:
    from lightning.pytorch.callbacks import ModelCheckpoint

    from trainer.callbacks import NonFiniteLossGuard, PlainProgress, RunHistory

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
    history = RunHistory()
    callbacks += [history, NonFiniteLossGuard()]
    if progress == "plain":
        callbacks.append(PlainProgress())
    return callbacks, history


def _fit_and_test(trainer: Any, model: Any, datamodule: Any, ckpt_path: str | None) -> None:
    import torch

    fit_kwargs: dict[str, Any] = {"ckpt_path": ckpt_path}
    if "weights_only" in inspect.signature(trainer.fit).parameters:
        fit_kwargs["weights_only"] = True  # our checkpoints hold only tensors and plain values
    try:
        trainer.fit(model, datamodule=datamodule, **fit_kwargs)
        trainer.test(model, datamodule=datamodule, verbose=False)
    except torch.OutOfMemoryError:
        raise TrainerError(
            f"out of memory with data.batch_size={datamodule.batch_size}; try a smaller data.batch_size"
        ) from None


def _write_artifact(output_dir: Path, cfg: DictConfig, model: Any, metrics: dict[str, Any]) -> None:
    import torch

    state = {k: v.detach().cpu() for k, v in model.net.state_dict().items()}
    atomic_write(output_dir / MODEL_FILE, lambda f: torch.save(state, f))
    write_text(output_dir / CONFIG_FILE, OmegaConf.to_yaml(cfg, resolve=True))
    write_json(output_dir / METRICS_FILE, metrics)


def train(cfg: DictConfig) -> dict[str, Any]:
    """Train, test and write the model artifact for a composed config; return what ``metrics.json`` holds.

    Raises :class:`~trainer.errors.TrainerError` for problems the user can fix (missing data, unwritable
    output directory, NaN loss, out of memory).
    """
    cfg = copy.deepcopy(cfg)  # filled in with the dataset's num_classes and image_size below
    extras = cfg.get("extras") or {}
    if extras.get("print_config"):
        print(OmegaConf.to_yaml(cfg))
    with warnings.catch_warnings():
        if extras.get("ignore_warnings"):
            warnings.simplefilter("ignore")
        return _train(cfg)


def _train(cfg: DictConfig) -> dict[str, Any]:
    import lightning.pytorch as pl

    from trainer.checkpoint_io import AtomicCheckpointIO
    from trainer.gpu_probe import use_cheap_cuda_check
    from trainer.kfp_outputs import write_kfp_outputs
    from trainer.provenance import provenance

    output_dir = Path(cfg.paths.output_dir)
    _check_kfp(cfg)
    use_cheap_cuda_check()
    if cfg.get("seed") is not None:
        pl.seed_everything(int(cfg.seed), workers=True, verbose=False)

    datamodule = _build(cfg.data, _convert_="object")
    datamodule.prepare_data()
    dataset = datamodule.dataset
    ensure_writable_dir(output_dir, "output directory")
    with open_dict(cfg):
        cfg.data.num_classes = dataset.num_classes
        cfg.data.image_size = int(dataset.train_images.shape[-1])
    model = _build(cfg.model, _convert_="object")

    progress = _progress_mode(cfg)
    callbacks, history = _callbacks(cfg, output_dir, progress)
    loggers = _instantiate_all(cfg.get("logger"))
    trainer_cfg = OmegaConf.to_container(cfg.trainer, resolve=True)
    assert isinstance(trainer_cfg, dict)
    trainer_cfg["precision"] = _precision(cfg.trainer)
    trainer: pl.Trainer = _build(
        trainer_cfg,
        plugins=[AtomicCheckpointIO()],
        callbacks=callbacks,
        logger=loggers or False,
        enable_progress_bar=progress == "bar",
        use_distributed_sampler=False,
    )
    _fit_and_test(trainer, model, datamodule, _resume_path(cfg, output_dir))

    test = trainer.callback_metrics
    scalars = {"test_accuracy": float(test["test/acc"]), "test_loss": float(test["test/loss"])}
    if history.best_val_accuracy is not None:
        scalars["best_val_accuracy"] = history.best_val_accuracy
    metrics: dict[str, Any] = {
        "test_accuracy": scalars["test_accuracy"],
        "test_loss": scalars["test_loss"],
        "best_val_accuracy": history.best_val_accuracy,
        "epochs": len(history.epoch_times_s),
        "epoch_times_s": history.epoch_times_s,
        "train_time_s": round(sum(history.epoch_times_s), 4),
        "val_accuracy": history.val_accuracy,
        "confusion_matrix": model.confusion_matrix(),
        "class_names": list(dataset.class_names),
        "preprocessing": {"mean": datamodule.mean, "std": datamodule.std},
        "precision": str(trainer_cfg["precision"]),
        "device": str(trainer.strategy.root_device.type),
        "world_size": trainer.world_size,
        "provenance": provenance(str(cfg.data.data_dir), dataset.manifest),
    }
    if trainer.is_global_zero:
        _write_artifact(output_dir, cfg, model, metrics)
        if cfg.get("kfp"):
            write_kfp_outputs(cfg.kfp, scalars, metrics["class_names"], metrics["confusion_matrix"])
    return metrics


def load_model(output_dir: str | Path) -> Any:
    """Rebuild the trained network from a model artifact directory (weights loaded with ``weights_only``)."""
    import torch
    from hydra.utils import instantiate

    output_dir = Path(output_dir)
    cfg = OmegaConf.load(output_dir / CONFIG_FILE)
    net = instantiate(cfg.model.net)
    net.load_state_dict(torch.load(output_dir / MODEL_FILE, weights_only=True, map_location="cpu"))
    return net.eval()
