"""``dataset=image_folder``: list, decode in parallel (resumably), assemble and publish atomically."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from data_prepare import atomic_directory, manifest
from data_prepare.errors import PrepareError
from data_prepare.image_folder import chunks, layout, publish
from data_prepare.image_folder.listing import SPLITS, Listing
from data_prepare.image_folder.plan import Plan, make_plan
from data_prepare.image_folder.spec import ImageFolderSpec
from data_prepare.image_folder.worker import BadImageError, Job, cloud_environ
from data_prepare.prepare import PrepareResult


def prepare_image_folder(
    spec: ImageFolderSpec,
    output_dir: Path | str,
    *,
    source: str,
    timeout_s: float = 30.0,
    log: Callable[[str], None] = lambda message: None,
) -> PrepareResult:
    """Publish the images of ``source`` (an ImageFolder tree, a CSV list, or ``gs://`` of either) to
    ``output_dir`` as the four IDX files and a manifest, atomically.

    Re-running with the same plan (source listing and settings) into a complete output is a no-op; a run
    killed while decoding resumes from its finished chunks.
    """
    output_dir = Path(output_dir).expanduser().absolute()
    if output_dir.exists() and not output_dir.is_dir():
        raise PrepareError(
            f"cannot write the output directory {output_dir}: it exists and is not a directory"
        )
    listing = layout.resolve(source, spec, timeout_s=timeout_s)
    _describe(listing, log)
    plan = make_plan(listing, spec)
    work = chunks.work_dir(output_dir, plan)
    with atomic_directory.exclusive(output_dir, log) as locked:
        atomic_directory.remove_leftovers(output_dir, locked=locked)
        if locked:
            chunks.remove_stale(output_dir, keep=work)
        if publish.is_complete(output_dir, spec, plan):
            shutil.rmtree(work, ignore_errors=True)
            log(f"{output_dir} already holds {spec.name} of this source and settings; nothing to do")
            return PrepareResult(output_dir, manifest.read(output_dir) or {}, reused=True)
        manifest.refuse_foreign(output_dir)
        _refuse_rejected(listing, spec)
        job = Job(
            spec, listing.root, str(work), plan.digest, len(listing.class_names), timeout_s, cloud_environ()
        )
        try:
            records = chunks.run(plan, job, spec.worker_count(), log)
            _check_counts(plan, records, listing, log)
        except BadImageError:
            shutil.rmtree(work, ignore_errors=True)  # the same plan fails again at the same image
            raise
        result = _publish(spec, listing, plan, records, output_dir, work, log)
        shutil.rmtree(work, ignore_errors=True)
    return result


def _describe(listing: Listing, log: Callable[[str], None]) -> None:
    counts = " / ".join(f"{len(listing.entries[split]):,} {split}" for split in SPLITS)
    log(f"{listing.origin}: {counts} images in {len(listing.class_names)} classes")
    if listing.ignored:
        log(f"ignored {listing.ignored:,} files that are hidden or not images by extension")


def _refuse_rejected(listing: Listing, spec: ImageFolderSpec) -> None:
    if listing.rejected and spec.on_bad_image == "fail":
        first = listing.rejected[0]
        raise BadImageError(
            f"bad image {listing.location(first.path)}: {first.reason} "
            "(dataset.on_bad_image=skip leaves bad images out)"
        )


def _publish(
    spec: ImageFolderSpec,
    listing: Listing,
    plan: Plan,
    records: list[dict],
    output_dir: Path,
    work: Path,
    log: Callable[[str], None],
) -> PrepareResult:
    with atomic_directory.staging_dir(output_dir) as staging:
        files = publish.assemble(staging, work, plan, records, spec)
        body = publish.build_manifest(spec, listing, plan, records, files)
        atomic_directory.write_file(staging / manifest.MANIFEST, manifest.dumps(body))
        published = atomic_directory.commit(
            staging,
            output_dir,
            last=manifest.MANIFEST,
            pending=manifest.PENDING,
            done=lambda: publish.is_complete(output_dir, spec, plan),
        )
    if not published:
        log(f"another run published {spec.name} to {output_dir} first; it is complete")
        return PrepareResult(output_dir, manifest.read(output_dir) or {}, reused=True)
    log(f"published {spec.name} to {output_dir}")
    return PrepareResult(output_dir, body, reused=False)


def _check_counts(plan: Plan, records: list[dict], listing: Listing, log: Callable[[str], None]) -> None:
    """Summarise the skipped images; a split must keep at least one image."""
    skipped = [(r.path, r.reason) for r in listing.rejected]
    skipped += [(s["path"], s["reason"]) for record in records for s in record["skipped"]]
    if skipped:
        path, reason = min(skipped)
        log(
            f"skipped {len(skipped):,} bad image(s) (dataset.on_bad_image=skip; listed in the manifest), "
            f"e.g. {path}: {reason}"
        )
    for split in SPLITS:
        if not any(r["count"] for task, r in zip(plan.chunks, records, strict=True) if task.split == split):
            raise BadImageError(f"no {split} images left after skipping {len(skipped):,} bad image(s)")
