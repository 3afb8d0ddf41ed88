"""Lint files and texts; apply fixes until the text is stable."""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.context
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.component_reader import read_components
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic, Edit
from hydra_yaml_lint.discovery import PathProblem, discover
from hydra_yaml_lint.errors import ComponentError, LintError, PathError, YamlParseError
from hydra_yaml_lint.fixes import apply_edits, overlaps, self_overlapping
from hydra_yaml_lint.gate import HydraVerdict
from hydra_yaml_lint.rules import ALL_RULES, INVALID_COMPONENT, INVALID_YAML, RULES
from hydra_yaml_lint.selection import selected_codes
from hydra_yaml_lint.settings import Settings, SettingsFinder, load_settings
from hydra_yaml_lint.sources import JSON_SUFFIX, read_contents
from hydra_yaml_lint.suppression import find_suppressions
from hydra_yaml_lint.yamlsource import SourceText

MAX_FIX_PASSES = 16
PARALLEL_MIN_FILES = 200
# Findings of one rule in one file beyond this many are summed up in one more diagnostic.
MAX_FINDINGS_PER_RULE = 50
HYDRA_ONLY: frozenset[str] = frozenset(code for code, rule in RULES.items() if rule.RULE.hydra_only)


@dataclass
class FileResult:
    """The diagnostics of one file and, when fixing, its fixed text."""

    path: Path
    display: str
    diagnostics: list[Diagnostic]
    original: str | None = None
    fixed: str | None = None  # set when fixing; the diagnostics then refer to this text
    components: int = 0
    not_known: int = 0  # components whose program might be a Hydra app, checked with the KFP rules only
    problem: PathProblem | None = None  # the file could not be read

    @property
    def changed(self) -> bool:
        return self.original is not None and self.fixed is not None and self.fixed != self.original


@dataclass
class Analysis:
    """All diagnostics of one text (uncapped, with fixes), its components and their Hydra verdicts (one
    per component, in the same order)."""

    diagnostics: list[Diagnostic]
    components: list[Component] = field(default_factory=list)
    verdicts: list[HydraVerdict] = field(default_factory=list)


def _builtin(display: str, line: int, column: int, rule: str, message: str) -> Diagnostic:
    info = ALL_RULES[rule]
    return Diagnostic(display, line, column, info.code, info.name, info.severity, message)


def analyse(
    text: str, display: str, settings: Settings, codes: frozenset[str], path: Path | None
) -> Analysis:
    """Every diagnostic of ``text`` (uncapped, with fixes) and its components, each with its Hydra verdict."""
    try:
        source = SourceText.parse(text)
    except YamlParseError as error:
        found = [_builtin(display, error.line, error.column, INVALID_YAML.code, error.message)]
        return Analysis(found if INVALID_YAML.code in codes else [])
    try:
        components = read_components(source, display)
    except ComponentError as error:
        found = [_builtin(display, error.line, error.column, INVALID_COMPONENT.code, error.message)]
        return Analysis(found if INVALID_COMPONENT.code in codes else [])
    except RecursionError:
        found = [_builtin(display, 1, 1, INVALID_COMPONENT.code, "structure nested too deeply")]
        return Analysis(found if INVALID_COMPONENT.code in codes else [])
    file_path = path or Path(display)
    context = LintContext(settings, file_path)
    diagnostics: list[Diagnostic] = []
    for component in components:
        is_hydra = context.is_hydra(component)
        for code, rule in RULES.items():
            if code in codes and (is_hydra or not rule.RULE.hydra_only):
                diagnostics.extend(rule.check(component, context))
    suppressions = find_suppressions(source)
    unique = {(d.line, d.column, d.code, d.message): d for d in diagnostics if not suppressions.hides(d)}
    verdicts = [context.verdict(component) for component in components]
    return Analysis(sorted(unique.values(), key=lambda d: d.sort_key), components, verdicts)


def _capped(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """At most ``MAX_FINDINGS_PER_RULE`` diagnostics per rule, then one in place of the next that counts
    the rest (large generated files would otherwise print, and keep, one line per argument)."""
    totals = Counter(diagnostic.code for diagnostic in diagnostics)
    if all(total <= MAX_FINDINGS_PER_RULE for total in totals.values()):
        return diagnostics
    seen: Counter[str] = Counter()
    kept: list[Diagnostic] = []
    for diagnostic in diagnostics:
        seen[diagnostic.code] += 1
        if seen[diagnostic.code] <= MAX_FINDINGS_PER_RULE:
            kept.append(diagnostic)
        elif seen[diagnostic.code] == MAX_FINDINGS_PER_RULE + 1:
            rest = totals[diagnostic.code] - MAX_FINDINGS_PER_RULE
            message = f"{rest} more {diagnostic.code} finding(s) in this file not shown"
            kept.append(replace(diagnostic, message=message, fix=None))
    return kept


def lint_text(
    text: str,
    display: str,
    *,
    settings: Settings | None = None,
    codes: Iterable[str] | None = None,
    path: Path | None = None,
) -> list[Diagnostic]:
    """Diagnostics for one file's text: sorted, suppressions applied, at most ``MAX_FINDINGS_PER_RULE``
    per rule (then one that counts the rest). ``settings`` default to none (programs are discovered);
    ``codes`` to every rule; ``path`` (default ``display``) locates settings-relative files."""
    chosen = frozenset(ALL_RULES) if codes is None else frozenset(codes)
    return _capped(analyse(text, display, settings or Settings(), chosen, path).diagnostics)


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


def _still_parses(text: str, json_file: bool) -> bool:
    try:
        SourceText.parse(text)
        if json_file:
            json.loads(text)
    except (YamlParseError, ValueError, RecursionError):
        return False
    return True


def _fixed(
    text: str, display: str, settings: Settings, codes: frozenset[str], path: Path | None, unsafe: bool
) -> tuple[str, Analysis]:
    json_file = str(path or display).endswith(JSON_SUFFIX)
    analysis = analyse(text, display, settings, codes, path)
    for _ in range(MAX_FIX_PASSES):
        edits = _choose_edits(analysis.diagnostics, unsafe)
        if not edits:
            break
        candidate = apply_edits(text, edits)
        if not _still_parses(candidate, json_file):
            break
        text = candidate
        analysis = analyse(text, display, settings, codes, path)
    return text, analysis


def fix_text(
    text: str,
    display: str,
    *,
    settings: Settings | None = None,
    codes: Iterable[str] | None = None,
    path: Path | None = None,
    unsafe: bool = False,
) -> tuple[str, list[Diagnostic]]:
    """Apply fixes pass after pass (overlapping ones wait for the next pass); return the text and what
    is left (as :func:`lint_text` reports it). A pass whose result no longer parses (as YAML, and as
    JSON for a ``.json`` file) is discarded."""
    chosen = frozenset(ALL_RULES) if codes is None else frozenset(codes)
    fixed, analysis = _fixed(text, display, settings or Settings(), chosen, path, unsafe)
    return fixed, _capped(analysis.diagnostics)


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
    try:
        contents = read_contents(path)
    except PathError as error:
        return FileResult(path, display, [], problem=PathProblem(display, error.message))
    if contents.text is None:
        problem = _builtin(display, 1, 1, INVALID_YAML.code, contents.problem or "")
        return FileResult(path, display, [problem] if problem.code in codes else [])
    text = contents.text
    if fix:
        fixed, analysis = _fixed(text, display, settings, codes, path, unsafe_fixes)
    else:
        fixed, analysis = None, analyse(text, display, settings, codes, path)
    hydra_rules = bool(codes & HYDRA_ONLY)
    # not settled: the program might be a Hydra app but is neither declared nor found (see gate.py)
    not_known = sum(1 for verdict in analysis.verdicts if not verdict.settled) if hydra_rules else 0
    return FileResult(
        path, display, _capped(analysis.diagnostics), text, fixed, len(analysis.components), not_known
    )


def _pool_context() -> multiprocessing.context.BaseContext:
    # fork is cheapest (workers inherit the imported linter) but unsafe once the caller runs threads
    if sys.platform == "linux" and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _ignore_interrupts() -> None:
    # Ctrl-C reaches the whole process group; the parent alone reports it
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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
    """Lint (and with ``fix``, compute fixed texts for) every YAML file and KFP JSON spec under ``paths``.

    Paths that cannot be searched or read come back as results with a ``problem`` (the others are still
    linted). With ``PARALLEL_MIN_FILES`` files or more, ``jobs`` worker processes (default: one per CPU)
    share the work; results keep the order of the files.
    """
    finder = _settings_source(config)
    files, problems = discover(paths, finder)
    results = [FileResult(Path(problem.path), problem.path, [], problem=problem) for problem in problems]
    work = []
    for path in files:
        settings = finder.for_path(path)
        codes = selected_codes(
            select if select is not None else settings.select,
            [*settings.ignore, *(ignore or ())],
        )
        work.append((path, settings, codes, fix, unsafe_fixes))
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(work) < PARALLEL_MIN_FILES:
        return results + [_lint_one(job) for job in work]
    chunk = max(1, len(work) // (workers * 8))
    pool = _pool_context().Pool(workers, initializer=_ignore_interrupts)
    try:
        results.extend(pool.imap(_lint_one, work, chunksize=chunk))
    except BaseException:
        pool.terminate()  # on Ctrl-C (or any error) the workers stop now, not after their queue
        raise
    finally:
        pool.close()
        pool.join()
    return results


def lint_paths(
    paths: Sequence[Path | str],
    *,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    config: Settings | Path | str | None = None,
) -> list[Diagnostic]:
    """Diagnostics for every component or pipeline file (YAML, or a KFP spec in JSON) under ``paths``.

    ``select``/``ignore`` take rule codes, prefixes or names; ``config`` is a pyproject.toml path or
    :class:`Settings` (default: the nearest pyproject.toml with ``[tool.hydra-yaml-lint]``). The Hydra
    rules run for components known to be Hydra apps (see :mod:`hydra_yaml_lint.gate`), the config-key
    rule where the app's config is mapped or discovered. Raises :class:`LintError` for a path that does
    not exist or cannot be read (after linting the others) and for a bad configuration.
    """
    results = lint_files(paths, select=select, ignore=ignore, config=config)
    problems = [str(result.problem) for result in results if result.problem is not None]
    if problems:
        raise LintError("; ".join(problems))
    return [diagnostic for result in results for diagnostic in result.diagnostics]
