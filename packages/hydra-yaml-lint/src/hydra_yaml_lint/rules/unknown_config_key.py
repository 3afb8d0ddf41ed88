"""HY301 unknown-config-key: an override names a key or config group option the app's config lacks.

## What it does
The check no generic tool does: the component is mapped to its Hydra config (`[tool.hydra-yaml-lint]`
in pyproject.toml, or discovered from the `hydra.main` call of the component's program), and the config
is composed with the component's overrides through Hydra's compose API, exactly as the container will
at start-up. A key the config does not have is reported with the closest existing key; so is an unknown
option of a config group (`experiment=nope`). Append-overrides (`+key=...`) are allowed to add keys.
Components whose config is not known are not checked.

## Why is this bad?
Hydra refuses an override of a key that does not exist ("Could not override 'datamodule.data_dir'"), at
start-up on Vertex AI. The classic case is a config that was reorganised: `datamodule.data_dir` against
a config whose group is now `data`.

## Example
```yaml
name: train
inputs:
- {name: dataset, type: Dataset}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ["datamodule.data_dir={{$.inputs.artifacts['dataset'].path}}"]
```

Use instead:
```yaml
name: train
inputs:
- {name: dataset, type: Dataset}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ["data.data_dir={{$.inputs.artifacts['dataset'].path}}"]
```

## Fix safety
There is no fix: the suggested key is a guess, and `+key=...` (add the key) may be what was meant.
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.rules._api import RuleInfo

RULE = RuleInfo("HY301", "unknown-config-key", "error", hydra_only=True, needs_hydra_config=True)


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    result = context.config_check(component)
    if result is None:
        return
    for finding in result.findings:
        if finding.override is not None and finding.unknown_key:
            yield RULE.at(component, component.source.span(finding.override.arg.node)[0], finding.message)
