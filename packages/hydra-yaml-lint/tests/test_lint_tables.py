"""Tables this package keeps to stay fast must match the libraries they mirror (kfp, Hydra)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from hydra_yaml_lint.argshape import HYDRA_FLAGS
from hydra_yaml_lint.kinds import PARAMETER_TYPE_NAMES
from hydra_yaml_lint.placeholders import CONSTANT_PLACEHOLDERS, scan

kfp_dsl = pytest.importorskip("kfp.dsl")
type_utils = pytest.importorskip("kfp.dsl.types.type_utils")


def test_parameter_types_match_kfp() -> None:
    assert set(type_utils.PARAMETER_TYPES_MAPPING) == PARAMETER_TYPE_NAMES


def test_constant_placeholders_are_kfps() -> None:
    """Exactly the constants kfp.dsl defines and kfp.local resolves by their literal text."""
    constants = {
        value[len("{{$.") : -2]
        for name, value in vars(kfp_dsl).items()
        if name.endswith("_PLACEHOLDER") and isinstance(value, str) and value.startswith("{{$.")
    }
    local = (Path(sys.modules["kfp"].__path__[0]) / "local" / "placeholder_utils.py").read_text()
    literal = set(re.findall(r"r'\{\{\$\.([A-Za-z_.]+)\}\}'", local))
    assert constants | literal == CONSTANT_PLACEHOLDERS
    assert "json_escape" in local  # the executor-input escape kfp knows of, accepted as {{$.json_escape[N]}}


def test_every_io_placeholder_kfp_renders_is_known() -> None:
    """Each placeholder class of kfp.dsl.placeholders, rendered as kfp renders it, scans clean."""
    from kfp.dsl import placeholders

    rendered = [
        str(placeholders.InputValuePlaceholder("x")),
        str(placeholders.InputPathPlaceholder("x")),
        str(placeholders.InputUriPlaceholder("x")),
        str(placeholders.InputMetadataPlaceholder("x")),
        placeholders.InputMetadataPlaceholder("x")["key"],
        str(placeholders.InputListOfArtifactsPlaceholder("x")),
        str(placeholders.OutputParameterPlaceholder("x")),
        str(placeholders.OutputPathPlaceholder("x")),
        str(placeholders.OutputUriPlaceholder("x")),
        str(placeholders.OutputMetadataPlaceholder("x")),
        placeholders.OutputMetadataPlaceholder("x")["key"],
        str(placeholders.OutputListOfArtifactsPlaceholder("x")),
        *(value for name, value in vars(kfp_dsl).items() if name.endswith("_PLACEHOLDER")),
        "{{$.json_escape[1]}}",
        "{{$.inputs.parameters['x'].json_escape[0]}}",
    ]
    for text in rendered:
        found, problems = scan(text)
        assert problems == () and [p.problem for p in found] == [None], text


def test_hydra_flags_match_hydras_parser() -> None:
    from hydra._internal.utils import get_args_parser

    flags: dict[str, bool | None] = {}
    for action in get_args_parser()._actions:
        for option in action.option_strings:
            flags[option] = None if action.nargs == "?" else action.nargs != 0
    assert flags == HYDRA_FLAGS


def test_version_imports_neither_hydra_nor_kfp_nor_yaml() -> None:
    code = (
        "import sys\nfrom hydra_yaml_lint.cli import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('hydra', 'kfp', 'yaml', 'omegaconf') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "[]"


def test_syntax_rules_do_not_import_hydra_or_kfp_for_plain_components() -> None:
    code = (
        "import sys\nfrom hydra_yaml_lint import Settings, lint_text\n"
        "from hydra_yaml_lint.rules import ALL_RULES\n"
        "text = open(sys.argv[1]).read()\n"
        "lint_text(text, 'x', settings=Settings(discover_configs=False), codes=frozenset(ALL_RULES))\n"
        "print(sorted(m for m in ('hydra', 'kfp') if m in sys.modules))"
    )
    clean = Path(__file__).parent / "golden" / "clean" / "contract_train.yaml"
    result = subprocess.run(
        [sys.executable, "-c", code, str(clean)], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1] == "[]"
