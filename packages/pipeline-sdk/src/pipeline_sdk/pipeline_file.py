"""Write the compiled pipeline file and prove that it holds exactly the spec kfp built.

kfp writes a comment header above the YAML (``# Inputs:`` with every parameter default) without escaping
line breaks, so a default containing one would start a new YAML line: the value could add keys to the spec
or replace it (kubeflow/pipelines#10438). Here kfp writes the file to a temporary path, the header kfp
produced is rebuilt from text with every character a YAML comment cannot hold escaped (``\\n``, ``\\x00``),
and the file is parsed again: unless its documents equal the spec (and platform spec) kfp built in memory,
nothing is written.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from pipeline_sdk.atomic import replacing
from pipeline_sdk.errors import CompileError, one_line


def _comment_char(char: str) -> str:
    """``char`` as it may appear inside a YAML comment: printable and not a line break, else escaped."""
    code = ord(char)
    printable = (
        char == "\t"
        or 0x20 <= code <= 0x7E
        or (0xA0 <= code <= 0xD7FF and char not in "\u2028\u2029")
        or 0xE000 <= code <= 0xFFFD
        or code >= 0x10000
    )
    if printable:
        return char
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def comment_text(text: str, keep_newlines: bool = False) -> str:
    """``text`` with every character a YAML comment line cannot hold escaped (``\\n`` unless kept)."""
    return "".join(c if keep_newlines and c == "\n" else _comment_char(c) for c in text)


def safe_header(spec: dict[str, Any], description: str | None) -> str:
    """kfp's comment header for ``spec``, built from escaped text: one comment line per entry."""
    from kfp.compiler.pipeline_spec_builder import extract_comments_from_pipeline_spec

    shown = copy.deepcopy(spec)
    for parameter in shown.get("root", {}).get("inputDefinitions", {}).get("parameters", {}).values():
        if isinstance(parameter.get("defaultValue"), str):
            parameter["defaultValue"] = comment_text(parameter["defaultValue"])
    header = extract_comments_from_pipeline_spec(
        shown, comment_text(description, keep_newlines=True) if description else description
    )
    if not all(line.startswith("#") for line in header.splitlines()):
        raise CompileError("kfp's comment header for this pipeline spans lines it should not")
    return header


def expected_documents(pipeline: Any) -> list[dict[str, Any]]:
    """The documents a compiled YAML file of ``pipeline`` (a kfp GraphComponent) must contain."""
    from google.protobuf import json_format

    documents = [json_format.MessageToDict(pipeline.pipeline_spec)]
    if len(pipeline.platform_spec.platforms) > 0:
        documents.append(json_format.MessageToDict(pipeline.platform_spec))
    return documents


def _read_exactly(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as f:  # no newline translation: "\r" is data here
        return f.read()


def read_documents(path: Path) -> list[Any]:
    """The documents of a compiled pipeline file (JSON: one)."""
    text = _read_exactly(path)
    if path.suffix == ".json":
        return [json.loads(text)]
    import yaml

    return list(yaml.safe_load_all(text))


def _neutralize_header(path: Path, pipeline: Any, spec: dict[str, Any]) -> None:
    from kfp.compiler.pipeline_spec_builder import extract_comments_from_pipeline_spec

    header = extract_comments_from_pipeline_spec(spec, pipeline.description)
    text = _read_exactly(path)
    if text.startswith(header):
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(safe_header(spec, pipeline.description) + text[len(header) :])


def write_pipeline_file(pipeline: Any, output: Path) -> dict[str, Any]:
    """Compile ``pipeline`` to ``output`` (``.json``: JSON, else YAML) atomically; return the spec dict.

    Raises :class:`CompileError` when kfp refuses the pipeline, the file cannot be written, or the written
    file does not parse back to exactly what kfp built; ``output`` is then left as it was.
    """
    import yaml
    from kfp.compiler import Compiler

    output = Path(output)
    json_output = output.suffix == ".json"
    expected = expected_documents(pipeline)
    try:
        with replacing(output, suffix=".json" if json_output else ".yaml") as tmp:
            try:
                Compiler().compile(pipeline, package_path=str(tmp))
            except (ValueError, TypeError) as e:
                raise CompileError(f"kfp cannot compile the pipeline: {e}") from None
            if not json_output:
                _neutralize_header(tmp, pipeline, expected[0])
            try:
                documents = read_documents(tmp)
            except (ValueError, yaml.YAMLError) as e:
                documents = [f"unreadable: {one_line(e)}"]
            if documents != (expected[:1] if json_output else expected):
                raise CompileError(
                    f"the compiled pipeline does not read back as the spec kfp built, so {output} was not "
                    "written (a configured text with line breaks or control characters?)"
                )
    except OSError as e:
        raise CompileError(f"cannot write {output}: {e.strerror or e}") from None
    return expected[0]


__all__ = ["comment_text", "read_documents", "safe_header", "write_pipeline_file"]
