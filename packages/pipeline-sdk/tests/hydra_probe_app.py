"""A real Hydra app standing in for the trainer in fast tests: it records what Hydra hands it.

It accepts the trainer's override keys (configs/components/train.yaml), the executor input made safe for
Hydra as the trainer makes it, writes the resolved config to ``<paths.output_dir>/received.json``, and
writes KFP Metrics metadata the way the trainer does (``kfp.metrics_path`` and an ExecutorOutput at the
trainer's choice of ``kfp.output_file`` / the executor input's ``outputs.outputFile``). Set
``PROBE_FAIL=1`` to exit 3, or pass ``experiment=probe-fail`` (one trial of a sweep failing). Started as a CustomJob replica other than
the primary (``CLUSTER_SPEC``), it only records what it received, in ``received-<pool>-<index>.json`` beside
the output directory.
"""

import json
import os
import sys
from pathlib import Path

import hydra
from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from trainer.executor_input import hydra_safe_args, output_file

ConfigStore.instance().store(
    name="probe",
    node={
        "data": {"data_dir": None, "batch_size": None},
        "trainer": {"max_epochs": None},
        "model": {"optimizer": {"lr": None}},
        "seed": None,
        "experiment": None,
        "paths": {"output_dir": None},
        "kfp": {
            "output_file": None,
            "executor_input": None,
            "metrics_uri": None,
            "classification_metrics_uri": None,
            "metrics_path": None,
            "classification_metrics_path": None,
        },
        "hydra": {"run": {"dir": "."}, "output_subdir": None},
    },
)


@hydra.main(config_path=None, config_name="probe", version_base=None)
def main(cfg: DictConfig) -> None:
    if os.environ.get("PROBE_FAIL") or cfg.experiment == "probe-fail":
        print("probe: failing on purpose", file=sys.stderr)
        sys.exit(3)
    received = OmegaConf.to_container(cfg, resolve=True)
    out = Path(cfg.paths.output_dir)
    task = json.loads(os.environ.get("CLUSTER_SPEC", "{}")).get("task", {"type": "workerpool0", "index": 0})
    if task != {"type": "workerpool0", "index": 0}:  # a CustomJob's other replicas only record, as rank > 0
        replica = f"{task['type']}-{task['index']}"
        (out.parent / f"received-{replica}.json").write_text(json.dumps(received))
        return
    out.mkdir(parents=True)
    (out / "received.json").write_text(json.dumps(received))
    metrics = {
        "test_accuracy": 0.5,
        "val_accuracy": cfg.model.optimizer.lr,
        "experiment_chars": len(cfg.experiment),
    }
    # what select-best reads of a trial: the trainer's metrics.json and a model file
    (out / "metrics.json").write_text(json.dumps(metrics))
    (out / "model.pt").write_bytes(b"probe weights")
    confusion = {"confusionMatrix": {"annotationSpecs": [{"displayName": "a"}], "rows": [{"row": [1]}]}}
    for key, metadata in (("metrics_path", metrics), ("classification_metrics_path", confusion)):
        Path(cfg.kfp[key]).parent.mkdir(parents=True, exist_ok=True)
        Path(cfg.kfp[key]).write_text(json.dumps(metadata))
    executor_output = {
        "artifacts": {
            "metrics": {"artifacts": [{"uri": cfg.kfp.metrics_uri, "metadata": metrics}]},
            "classification_metrics": {
                "artifacts": [{"uri": cfg.kfp.classification_metrics_uri, "metadata": confusion}]
            },
        }
    }
    target = output_file(cfg.kfp)  # the trainer's own choice of file
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(executor_output))
    print(f"probe: experiment={cfg.experiment!r}")
    print(f"probe: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}")


if __name__ == "__main__":
    sys.argv[1:] = hydra_safe_args(sys.argv[1:])  # as the trainer's console script does
    main()
