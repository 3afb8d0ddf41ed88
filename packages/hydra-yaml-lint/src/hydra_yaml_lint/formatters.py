"""Render diagnostics as text, JSON, GitHub Actions annotations or SARIF 2.1.0."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from hydra_yaml_lint.__about__ import __version__
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.yamlsource import SourceText

Texts = dict[str, str]  # display path -> file text, to turn fix offsets into line/column


class _Positions:
    """Line and column of fix offsets, with each file's line starts computed once."""

    def __init__(self, texts: Texts) -> None:
        self._texts = texts
        self._sources: dict[str, SourceText | None] = {}

    def __call__(self, path: str, offset: int) -> dict[str, int]:
        if path not in self._sources:
            text = self._texts.get(path)
            self._sources[path] = SourceText(text) if text is not None else None
        source = self._sources[path]
        line, column = source.position(offset) if source is not None else (0, 0)
        return {"line": line, "column": column, "offset": offset}


def _fix_json(diagnostic: Diagnostic, position: _Positions) -> dict[str, object] | None:
    fix = diagnostic.fix
    if fix is None:
        return None
    return {
        "description": fix.description,
        "applicability": "safe" if fix.safe else "unsafe",
        "edits": [
            {
                "start": position(diagnostic.path, edit.start),
                "end": position(diagnostic.path, edit.end),
                "content": edit.content,
            }
            for edit in fix.edits
        ],
    }


def as_text(diagnostics: Sequence[Diagnostic], texts: Texts) -> str:
    return "".join(f"{diagnostic}\n" for diagnostic in diagnostics)


def as_json(diagnostics: Sequence[Diagnostic], texts: Texts) -> str:
    position = _Positions(texts)
    items = []
    for diagnostic in diagnostics:
        item: dict[str, object] = {
            "path": diagnostic.path,
            "line": diagnostic.line,
            "column": diagnostic.column,
            "code": diagnostic.code,
            "name": diagnostic.name,
            "severity": diagnostic.severity,
            "message": diagnostic.message,
        }
        fix = _fix_json(diagnostic, position)
        if fix is not None:
            item["fix"] = fix
        items.append(item)
    return json.dumps(items, indent=2) + "\n"


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def as_github(diagnostics: Sequence[Diagnostic], texts: Texts) -> str:
    lines = []
    for d in diagnostics:
        properties = ",".join(
            (
                f"file={_escape_property(d.path)}",
                f"line={d.line}",
                f"col={d.column}",
                f"title={_escape_property(f'{d.code} {d.name}')}",
            )
        )
        lines.append(f"::{d.severity} {properties}::{_escape_data(f'{d.code} {d.message}')}\n")
    return "".join(lines)


def as_sarif(diagnostics: Sequence[Diagnostic], texts: Texts) -> str:
    from hydra_yaml_lint.rules import ALL_RULES, DOCS

    def description(code: str) -> str:
        doc = DOCS.get(code, "")
        return doc.splitlines()[0] if doc else ALL_RULES[code].name

    rules = [
        {
            "id": code,
            "name": info.name,
            "shortDescription": {"text": description(code)},
            "defaultConfiguration": {"level": info.severity},
        }
        for code, info in sorted(ALL_RULES.items())
    ]
    results = [
        {
            "ruleId": d.code,
            "level": d.severity,
            "message": {"text": d.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": Path(d.path).as_posix()},
                        "region": {"startLine": d.line, "startColumn": d.column},
                    }
                }
            ],
        }
        for d in diagnostics
    ]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "hydra-yaml-lint", "version": __version__, "rules": rules}},
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


FORMATTERS: dict[str, Callable[[Sequence[Diagnostic], Texts], str]] = {
    "text": as_text,
    "json": as_json,
    "github": as_github,
    "sarif": as_sarif,
}
