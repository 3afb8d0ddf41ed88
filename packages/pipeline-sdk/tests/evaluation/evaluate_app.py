"""An evaluation component a user might add: a Hydra app that scores a trained model artifact on one split
of the dataset artifact, with the trainer's own library, and reports KFP Metrics."""

import json
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig

ConfigStore.instance().store(
    name="evaluate",
    node={
        "model_dir": None,
        "data_dir": None,
        "split": "test",
        "paths": {"output_dir": None},
        "kfp": {"output_file": None, "metrics_uri": None, "metrics_path": None},
        "hydra": {"run": {"dir": "."}, "output_subdir": None},
    },
)


@hydra.main(config_path=None, config_name="evaluate", version_base=None)
def main(cfg: DictConfig) -> None:
    from trainer import load_idx_dataset, predict

    data = load_idx_dataset(cfg.data_dir)
    images, labels = getattr(data, f"{cfg.split}_images"), getattr(data, f"{cfg.split}_labels")
    accuracy = float((predict(cfg.model_dir, images) == labels).mean())
    metrics = {f"{cfg.split}_accuracy": accuracy, "examples": len(labels)}
    out = Path(cfg.paths.output_dir)
    out.mkdir(parents=True)
    (out / "evaluation.json").write_text(json.dumps(metrics))
    Path(cfg.kfp.metrics_path).parent.mkdir(parents=True, exist_ok=True)
    Path(cfg.kfp.metrics_path).write_text(json.dumps(metrics))
    executor_output = {
        "artifacts": {"metrics": {"artifacts": [{"uri": cfg.kfp.metrics_uri, "metadata": metrics}]}}
    }
    Path(cfg.kfp.output_file).parent.mkdir(parents=True, exist_ok=True)
    Path(cfg.kfp.output_file).write_text(json.dumps(executor_output))


if __name__ == "__main__":
    main()
