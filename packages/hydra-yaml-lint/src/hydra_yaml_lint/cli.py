"""``hydra-yaml-lint`` command line. Only argparse is imported before the arguments are parsed, so
``--version`` starts fast; YAML, the rules and (when a config check runs) Hydra load afterwards.

:func:`main` is the one error boundary: a :class:`~hydra_yaml_lint.errors.LintError` raised anywhere below
it becomes one line on stderr and its exit status, Ctrl-C exits 130, and any other exception (a bug)
still ends in one line, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from hydra_yaml_lint.__about__ import __version__
from hydra_yaml_lint.errors import LintError, UsageError

TYPE_CHECKING = False  # keep `typing` and the linter out of `--version`'s start-up
if TYPE_CHECKING:
    from hydra_yaml_lint.diagnostic import Diagnostic
    from hydra_yaml_lint.linter import FileResult

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hydra-yaml-lint",
        description="Check Hydra-style KFP component and pipeline YAML: argument style, placeholders, "
        "override grammar and config keys.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or directories (default: .)")
    parser.add_argument("--fix", action="store_true", help="apply safe fixes in place")
    parser.add_argument("--unsafe-fixes", action="store_true", help="also apply fixes marked unsafe")
    parser.add_argument("--diff", action="store_true", help="print the fixes as a diff; write nothing")
    parser.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text")
    parser.add_argument("--select", action="append", metavar="CODES", help="rule codes, prefixes or names")
    parser.add_argument("--ignore", action="append", metavar="CODES", help="rule codes, prefixes or names")
    parser.add_argument("--config", metavar="PYPROJECT", help="use this pyproject.toml's settings")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument(
        "--jobs", type=int, metavar="N", help="worker processes for large runs (default: CPUs)"
    )
    parser.add_argument("--list-rules", action="store_true", help="list the rules and exit")
    parser.add_argument("--explain", metavar="CODE", help="print a rule's documentation and exit")
    parser.add_argument("--version", action="version", version=f"hydra-yaml-lint {__version__}")
    return parser


def _list_rules() -> str:
    from hydra_yaml_lint.rules import ALL_RULES

    return "".join(f"{code}  {info.name:<22} {info.severity}\n" for code, info in sorted(ALL_RULES.items()))


def _explain(code: str) -> str:
    from hydra_yaml_lint.rules import ALL_RULES, DOCS

    for rule_code, info in ALL_RULES.items():
        if code in (rule_code, info.name):
            return DOCS[rule_code] + "\n"
    raise UsageError(f"unknown rule {code!r}")


def _gate_summary(components: int, not_known: int) -> str:
    return (
        f"hydra-yaml-lint: {not_known} of {components} component(s) run a program not known to be a Hydra "
        "app and got the KFP rules only; to check Hydra apps whose program is not installed here, declare "
        'hydra-programs = ["<command>"] or hydra-components = ["<glob>"] under [tool.hydra-yaml-lint] '
        "in pyproject.toml"
    )


def _write_fixes(results: list[FileResult]) -> list[str]:
    from hydra_yaml_lint.atomic import write_text
    from hydra_yaml_lint.sources import describe_os_error

    failures = []
    for result in results:
        if not result.changed:
            continue
        try:
            write_text(result.path, result.fixed or "")
        except OSError as error:
            failures.append(f"{result.display}: cannot write the fixed file: {describe_os_error(error)}")
    return failures


def _summary(
    options: argparse.Namespace,
    results: list[FileResult],
    diagnostics: list[Diagnostic],
    changed: list[FileResult],
) -> str:
    """The text format's last line: what was found and fixed, or that every check passed."""
    if not (diagnostics or changed):
        checked = sum(1 for result in results if result.original is not None)
        components = sum(result.components for result in results)
        return f"All checks passed: {checked} file(s), {components} component(s)"
    fixable = sum(1 for d in diagnostics if d.fix is not None and (d.fix.safe or options.unsafe_fixes))
    summary = f"{len(diagnostics)} problem(s)"
    if changed and (options.fix or options.diff):
        return summary + f"; {'would fix' if options.diff else 'fixed'} {len(changed)} file(s)"
    return summary + (f"; {fixable} fixable with --fix" if fixable else "")


def _run(options: argparse.Namespace) -> int:
    import difflib

    from hydra_yaml_lint.formatters import FORMATTERS
    from hydra_yaml_lint.linter import lint_files
    from hydra_yaml_lint.selection import selected_codes, split_entries

    select, ignore = split_entries(options.select), split_entries(options.ignore)
    selected_codes(select, ignore)  # reject unknown codes before reading any file
    results = lint_files(
        options.paths or ["."],
        select=select,
        ignore=ignore,
        config=options.config,
        fix=options.fix or options.diff,
        unsafe_fixes=options.unsafe_fixes,
        jobs=options.jobs,
    )
    errors = [str(result.problem) for result in results if result.problem is not None]
    changed = [result for result in results if result.changed]
    if options.diff:
        for result in changed:
            sys.stdout.writelines(
                difflib.unified_diff(
                    (result.original or "").splitlines(keepends=True),
                    (result.fixed or "").splitlines(keepends=True),
                    fromfile=f"a/{result.display}",
                    tofile=f"b/{result.display}",
                )
            )
    elif options.fix:
        errors += _write_fixes(changed)
    diagnostics = [diagnostic for result in results for diagnostic in result.diagnostics]
    texts = {
        result.display: result.fixed if result.fixed is not None else result.original
        for result in results
        if result.original is not None
    }
    sys.stdout.write(FORMATTERS[options.format](diagnostics, texts))
    sys.stdout.flush()
    for error in errors:
        print(f"hydra-yaml-lint: {error}", file=sys.stderr)
    not_known = sum(result.not_known for result in results)
    if not_known:
        print(_gate_summary(sum(result.components for result in results), not_known), file=sys.stderr)
    if options.format == "text" and (diagnostics or changed or not errors):
        print(_summary(options, results, diagnostics, changed), file=sys.stderr)
    if errors:
        return EXIT_ERROR
    if options.exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if diagnostics or (options.diff and changed) else EXIT_CLEAN


def main(argv: list[str] | None = None) -> int:
    """Run the linter; returns 0 (clean), 1 (findings), 2 (usage, I/O or configuration error) or 130
    (interrupted)."""
    try:
        return _main(argv)
    except LintError as error:
        print(f"hydra-yaml-lint: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("hydra-yaml-lint: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_ERROR
    except Exception as error:  # a bug must still end in one line, not a traceback
        print(f"hydra-yaml-lint: internal error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_ERROR


def _main(argv: list[str] | None) -> int:
    options = build_parser().parse_args(argv)
    if options.list_rules:
        sys.stdout.write(_list_rules())
        return EXIT_CLEAN
    if options.explain:
        sys.stdout.write(_explain(options.explain))
        return EXIT_CLEAN
    if options.diff and options.format != "text":
        raise UsageError("--diff prints a text diff; it cannot be combined with --format")
    return _run(options)


if __name__ == "__main__":
    sys.exit(main())
