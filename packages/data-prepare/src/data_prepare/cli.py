"""``data-prepare``: the Hydra application behind the pipeline's first component."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from data_prepare.prepare import PrepareResult


def _stderr(message: str) -> None:
    print(f"data-prepare: {message}", file=sys.stderr, flush=True)


def _prepare(cfg: DictConfig) -> tuple[str, PrepareResult]:
    """Dispatch on the dataset group's ``format``: ``idx`` (the MNIST family) or ``image_folder``."""
    from omegaconf import OmegaConf

    dataset: dict[str, Any] = OmegaConf.to_container(cfg.dataset, resolve=True)  # type: ignore[assignment]
    if dataset.get("format") == "image_folder":
        from data_prepare.image_folder import ImageFolderSpec, prepare_image_folder

        folder_spec = ImageFolderSpec.from_config(dataset)
        return folder_spec.name, prepare_image_folder(
            folder_spec,
            cfg.paths.output_dir,
            source=cfg.source,
            timeout_s=float(cfg.download.timeout_s),
            log=_stderr,
        )
    from data_prepare.prepare import prepare
    from data_prepare.spec import DatasetSpec

    spec = DatasetSpec.from_config(dataset)
    mirrors = cfg.download.mirrors
    return spec.name, prepare(
        spec,
        cfg.paths.output_dir,
        source=cfg.source,
        mirrors=list(mirrors) if mirrors else None,
        timeout_s=float(cfg.download.timeout_s),
        progress=str(cfg.download.progress),
        log=_stderr,
    )


def _app(cfg: DictConfig) -> None:
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from data_prepare.errors import PrepareError

    started = time.perf_counter()
    if OmegaConf.is_missing(cfg.paths, "output_dir"):
        print(
            "data-prepare: error: paths.output_dir is required (the dataset artifact directory)",
            file=sys.stderr,
        )
        sys.exit(2)
    try:
        name, result = _prepare(cfg)
    except (PrepareError, OmegaConfBaseException) as e:
        print(f"data-prepare: error: {e}", file=sys.stderr)
        sys.exit(1)
    counts = result.manifest.get("counts", {})
    verb = "reused" if result.reused else "published"
    print(
        f"{verb} {name} ({counts.get('train', 0):,} train / {counts.get('test', 0):,} test images) "
        f"at {result.output_dir} in {time.perf_counter() - started:.1f} s"
    )


def main() -> None:
    """Console-script entry point."""
    try:
        import hydra  # inside the guard, so Ctrl-C during start-up is handled too

        hydra.main(config_path="conf", config_name="prepare", version_base="1.3")(_app)()
    except KeyboardInterrupt:
        print("data-prepare: interrupted; the output directory is unchanged or complete", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
