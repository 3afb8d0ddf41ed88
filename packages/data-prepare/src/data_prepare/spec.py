"""What a dataset is: the four IDX files, their expected shapes, counts and class names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from data_prepare.errors import PrepareError

Split = Literal["train", "test"]
Kind = Literal["images", "labels"]

#: Standard IDX file names shared by MNIST, Fashion-MNIST and KMNIST, with what each holds.
IDX_FILES: dict[str, tuple[Split, Kind]] = {
    "train-images-idx3-ubyte.gz": ("train", "images"),
    "train-labels-idx1-ubyte.gz": ("train", "labels"),
    "t10k-images-idx3-ubyte.gz": ("test", "images"),
    "t10k-labels-idx1-ubyte.gz": ("test", "labels"),
}


@dataclass(frozen=True)
class DatasetSpec:
    """One MNIST-family dataset as configured in ``conf/dataset/<name>.yaml``."""

    name: str
    torchvision_class: str | None
    image_shape: tuple[int, int]
    counts: Mapping[Split, int]
    class_names: tuple[str, ...]
    system_package: str | None = None
    system_dirs: tuple[str, ...] = ()
    checksums: Mapping[str, str] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> DatasetSpec:
        """Read ``conf/dataset/<name>.yaml``; ``image_size`` and ``channels``, when given, must be the files'."""
        _check_output_shape(cfg)
        return cls(
            name=str(cfg["name"]),
            torchvision_class=cfg.get("torchvision_class"),
            image_shape=(int(cfg["image_shape"][0]), int(cfg["image_shape"][1])),
            counts={"train": int(cfg["counts"]["train"]), "test": int(cfg["counts"]["test"])},
            class_names=tuple(str(c) for c in cfg["class_names"]),
            system_package=cfg.get("system_package"),
            system_dirs=tuple(cfg.get("system_dirs") or ()),
            checksums={k: v for k, v in (cfg.get("checksums") or {}).items() if v},
        )


def _check_output_shape(cfg: Mapping[str, Any]) -> None:
    """The pipeline passes ``dataset.image_size`` and ``dataset.channels`` whatever the dataset: an IDX
    dataset's files fix both, so only their own values are accepted."""
    height, width = (int(side) for side in cfg["image_shape"])
    expected = {"image_size": height if height == width else None, "channels": 1}
    for key, value in expected.items():
        given = cfg.get(key)
        if given is not None and (value is None or int(given) != value):
            raise PrepareError(
                f"dataset.{key}={given}: {cfg['name']} images are {height}x{width} with 1 channel; image_size "
                "and channels choose the output of dataset=image_folder"
            )
