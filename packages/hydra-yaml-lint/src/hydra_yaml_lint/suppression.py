"""Comments that silence diagnostics.

    - --lr  # hydra-yaml-lint: disable=HY001          (this line; codes or names, comma-separated)
    # hydra-yaml-lint: disable-next-line=positional-arg
    - legacy
    # hydra-yaml-lint: disable-file                   (the whole file)

Without ``=codes`` every rule is silenced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.yamlsource import SourceText

MARKER = "hydra-yaml-lint:"
# Codes are `HY001` or `argparse-style-arg`, separated by commas and blanks within the comment's own line:
# `\s` would let the list run on into the next line of YAML.
_DIRECTIVE = re.compile(
    r"(?:^|(?<=\s))#[ \t]*hydra-yaml-lint:[ \t]*(?P<kind>disable-next-line|disable-file|disable)\b"
    r"(?:[ \t]*=[ \t]*(?P<codes>[\w-]+(?:[ \t]*,[ \t]*[\w-]+)*))?",
    re.MULTILINE,
)
ALL = "*"


@dataclass
class Suppressions:
    by_line: dict[int, set[str]] = field(default_factory=dict)
    whole_file: set[str] = field(default_factory=set)

    def hides(self, diagnostic: Diagnostic) -> bool:
        for codes in (self.whole_file, self.by_line.get(diagnostic.line, set())):
            if ALL in codes or diagnostic.code in codes or diagnostic.name in codes:
                return True
        return False


def find_suppressions(source: SourceText) -> Suppressions:
    found = Suppressions()
    if MARKER not in source.text:
        return found
    for match in _DIRECTIVE.finditer(source.text):
        codes = {code.strip() for code in (match["codes"] or "").split(",") if code.strip()} or {ALL}
        line = source.position(match.start())[0]
        if match["kind"] == "disable-file":
            found.whole_file |= codes
        else:
            target = line + 1 if match["kind"] == "disable-next-line" else line
            found.by_line.setdefault(target, set()).update(codes)
    return found
