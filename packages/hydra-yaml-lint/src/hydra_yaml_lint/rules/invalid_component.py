"""HY901 invalid-component: a component field has a shape kfp refuses to load.

## What it does
Reported by the linter itself, not by a rule module, while it reads a component: a field of a shape
`kfp.components.load_component_from_text` refuses (`inputs` that is not a list, an input without a
name, an argument that YAML reads as a number, an `if` without `cond`, ...). Shapes kfp accepts (an
empty `outputs:`, a single item as an `if` branch) are read the way kfp reads them, and a test checks
each case against the installed kfp.

## Why is this bad?
Loading the component fails when the pipeline is compiled, and the rest of the file cannot be checked.

## Example
```yaml
name: train
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: [trainer.max_epochs=5, 0.001]
```

Use instead:
```yaml
name: train
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: [trainer.max_epochs=5, model.optimizer.lr=0.001]
```

## Fix safety
There is no fix: the intended shape is for a person to decide.
"""

from __future__ import annotations

from hydra_yaml_lint.rules._api import RuleInfo

# reported by the linter while it reads a file (linter.py); this module documents it
RULE = RuleInfo("HY901", "invalid-component", "error")
