"""HY900 invalid-yaml: the file is not YAML (or not text) and cannot be linted.

## What it does
Reported by the linter itself, not by a rule module: a file that does not parse as YAML (JSON is YAML),
or one that is binary, not UTF-8 or larger than 16 MiB, at the position the parser names.

## Why is this bad?
kfp cannot load the file either, and none of the other rules can check it.

## Example
```yaml
name: train
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: [trainer.max_epochs=5
```

Use instead:
```yaml
name: train
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: [trainer.max_epochs=5]
```

## Fix safety
There is no fix. `--fix` never writes a file whose fixed text would not parse (as YAML, and as JSON for
a `.json` file).
"""

from __future__ import annotations

from hydra_yaml_lint.rules._api import RuleInfo

# reported by the linter while it reads a file (linter.py); this module documents it
RULE = RuleInfo("HY900", "invalid-yaml", "error")
