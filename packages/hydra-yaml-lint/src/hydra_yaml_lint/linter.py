"""Lint files and texts; apply fixes until the text is stable."""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from hydra_yaml_lint.component import ComponentError, read_components
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic, Edit
from hydra_yaml_lint.files import discover
from hydra_yaml_lint.fixes import apply_edits, overlaps, self_overlapping
from hydra_yaml_lint.rules import INVALID_COMPONENT, INVALID_YAML, RULES
from hydra_yaml_lint.selection import selected_codes
from hydra_yaml_lint.settings import LintError, Settings, SettingsFinder, load_settings
from hydra_yaml_lint.suppression import find_suppressions
from hydra_yaml_lint.yamlsource import SourceText, YamlParseError

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_FIX_PASSES = 16
PARALLEL_MIN_FILES = 200


@dataclass
class FileResult:
    """The diagnostics of one file and, when fixing, its fixed text."""

    path: Path
    display: str
    diagnostics: list[Diagnostic]
    original: str | None = None
    fixed: str | None = None  # set when fixing; the diagnostics then refer to this text

    @property
    def changed(self) -> bool:
        return self.original is not None and self.fixed is not None and self.fixed != self.original


def read_text(path: Path, display: str) -> tuple[str | None, Diagnostic | None]:
    """The file's text, or a HY900 diagnostic when it is not UTF-8 text of a sane size."""

    def problem(message: str) -> tuple[None, Diagnostic]:
        info = INVALID_YAML
        return None, Diagnostic(display, 1, 1, info.code, info.name, info.severity, message)

    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return problem(f"file is {size} bytes; larger than {MAX_FILE_BYTES} is not linted")
        data = path.read_bytes()
    except OSError as error:
        raise LintError(f"{display}: cannot read: {error.strerror or error}") from None
    if b"\x00" in data:
        return problem("binary file, not YAML text")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        return problem(f"not UTF-8 text (byte {error.start})")


def lint_text(
    text: str,
    display: str,
    *,
    settings: Settings,
    codes: frozenset[str],
    path: Path | None = None,
) -> list[Diagnostic]:
    """Diagnostics for one file's text (sorted, suppressions applied)."""
    try:
        source = SourceText.parse(text)
    except YamlParseError as error:
        if INVALID_YAML.code not in codes:
            return []
        info = INVALID_YAML
        return [
            Diagnostic(display, error.line, error.column, info.code, info.name, info.severity, error.message)
        ]
    try:
        components = read_components(source, display)
    except ComponentError as error:
        if INVALID_COMPONENT.code not in codes:
            return []
        line, column = (
            (error.node.start_mark.line + 1, error.node.start_mark.column + 1) if error.node else (1, 1)
        )
        info = INVALID_COMPONENT
        return [Diagnostic(display, line, column, info.code, info.name, info.severity, error.message)]
    except RecursionError:
        info = INVALID_COMPONENT
        return [Diagnostic(display, 1, 1, info.code, info.name, info.severity, "structure nested too deeply")]
    context = LintContext(settings, path or Path(display))
    diagnostics: list[Diagnostic] = []
    for component in components:
        for code, rule in RULES.items():
            if code in codes:
                diagnostics.extend(rule.check(component, context))
    suppressions = find_suppressions(source)
    unique = {(d.line, d.column, d.code, d.message): d for d in diagnostics if not suppressions.hides(d)}
    return sorted(unique.values(), key=lambda d: d.sort_key)


def _choose_edits(diagnostics: Iterable[Diagnostic], unsafe: bool) -> list[Edit]:
    taken: list[tuple[int, int]] = []
    chosen: list[Edit] = []
    for diagnostic in diagnostics:
        fix = diagnostic.fix
        if (
            fix is None
            or not (fix.safe or unsafe)
            or self_overlapping(fix.edits)
            or overlaps(fix.edits, taken)
        ):
            continue
        chosen.extend(fix.edits)
        taken.extend((edit.start, edit.end) for edit in fix.edits)
    return chosen


def fix_text(
    text: str,
    display: str,
    *,
    settings: Settings,
    codes: frozenset[str],
    path: Path | None = None,
    unsafe: bool = False,
) -> tuple[str, list[Diagnostic]]:
    """Apply fixes pass after pass (overlapping ones wait for the next pass); return the text and what
    is left. A pass whose result is not valid YAML is discarded."""
    diagnostics = lint_text(text, display, settings=settings, codes=codes, path=path)
    for _ in range(MAX_FIX_PASSES):
        edits = _choose_edits(diagnostics, unsafe)
        if not edits:
            break
        candidate = apply_edits(text, edits)
        try:
            SourceText.parse(candidate)
        except YamlParseError:
            break
        text = candidate
        diagnostics = lint_text(text, display, settings=settings, codes=codes, path=path)
    return text, diagnostics


def _settings_source(config: Settings | Path | str | None) -> SettingsFinder:
    if config is None or isinstance(config, Settings):
        return SettingsFinder(config)
    pyproject = Path(config)
    if not pyproject.is_file():
        raise LintError(f"{pyproject}: no such config file")
    return SettingsFinder(
        load_settings(pyproject) or Settings(root=pyproject.parent.resolve(), source=pyproject)
    )


def _lint_one(job: tuple[Path, Settings, frozenset[str], bool, bool]) -> FileResult:
    path, settings, codes, fix, unsafe_fixes = job
    display = str(path)
    text, problem = read_text(path, display)
    if text is None:
        return FileResult(path, display, [problem] if problem and problem.code in codes else [])
    if fix:
        fixed, diagnostics = fix_text(
            text, display, settings=settings, codes=codes, path=path, unsafe=unsafe_fixes
        )
        return FileResult(path, display, diagnostics, text, fixed)
    return FileResult(
        path, display, lint_text(text, display, settings=settings, codes=codes, path=path), text
    )


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork is cheapest (workers inherit the imported linter) but unsafe once the caller runs threads
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def lint_files(
    paths: Sequence[Path | str],
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    config: Settings | Path | str | None = None,
    fix: bool = False,
    unsafe_fixes: bool = False,
    jobs: int | None = None,
) -> list[FileResult]:
    """Lint (and with ``fix``, compute fixed texts for) every YAML file under ``paths``.

    With ``PARALLEL_MIN_FILES`` files or more, ``jobs`` worker processes (default: one per CPU) share
    the work; results keep the order of the files.
    """
    finder = _settings_source(config)
    work = []
    for path in discover(paths, finder):
        settings = finder.for_path(path)
        codes = selected_codes(
            select if select is not None else settings.select,
            [*settings.ignore, *(ignore or ())],
        )
        work.append((path, settings, codes, fix, unsafe_fixes))
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(work) < PARALLEL_MIN_FILES:
        return [_lint_one(job) for job in work]
    chunk = max(1, len(work) // (workers * 8))
    with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
        return list(pool.map(_lint_one, work, chunksize=chunk))


def lint_paths(
    paths: Sequence[Path | str],
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    config: Settings | Path | str | None = None,
) -> list[Diagnostic]:
    """Diagnostics for every component or pipeline YAML under ``paths`` (files or directories).

    ``select``/``ignore`` take rule codes, prefixes or names; ``config`` is a pyproject.toml path or
    :class:`Settings` (default: the nearest pyproject.toml with ``[tool.hydra-yaml-lint]``). The
    config-key rule runs for components whose Hydra config is mapped or discovered. Raises
    :class:`LintError` for a missing path, an unreadable file or a bad configuration.
    """
    results = lint_files(paths, select=select, ignore=ignore, config=config)
    return [diagnostic for result in results for diagnostic in result.diagnostics]
