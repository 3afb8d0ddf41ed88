"""HY102 malformed-placeholder: a placeholder KFP will not resolve.

## What it does
Checks every argument for placeholders KFP cannot resolve: unbalanced braces (`{{$.inputs...}`), an
unknown placeholder (anything other than `$`, `$.inputs`, `$.outputs`, `$.json_escape[N]` and KFP's
constants such as `$.outputs.output_file` or `$.pipeline_job_name`), an artifact without `.path`/`.uri`
(unless it is a list of artifacts, which is passed whole), a parameter with one, an output parameter
without `.output_file`, and v1 structures KFP does not know (`{inputValues: x}`). In the arguments of a
Hydra app, which should hold no other braces, likely typos are reported too: `{inputs...}` or
`{{inputs...}}` without `$`, a `}` too many. Elsewhere (shell scripts, JSON payloads, templates) such
text may be meant.

## Why is this bad?
KFP passes such text through verbatim and unvalidated, so the container receives the literal braces
instead of a path or a value, and fails (or silently uses the text) at run time.

## Example
```yaml
name: train
inputs:
- {name: dataset, type: Dataset}
implementation:
  container:
    image: hydra-vertex-trainer
    command: [trainer]
    args: ["data.data_dir={{$.inputs.artifacts['dataset']}}"]
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
There is no fix: which placeholder was meant (`.path` or `.uri`, which name) is for a person to decide.
"""

from __future__ import annotations

from collections.abc import Iterator

from hydra_yaml_lint.component import Component
from hydra_yaml_lint.context import LintContext
from hydra_yaml_lint.diagnostic import Diagnostic
from hydra_yaml_lint.rules._api import RuleInfo

RULE = RuleInfo("HY102", "malformed-placeholder", "error")


def check(component: Component, context: LintContext) -> Iterator[Diagnostic]:
    source = component.source
    hydra = context.is_hydra(component)
    for arg in component.argv:
        if arg.problem is not None:
            yield RULE.at(component, source.span(arg.node)[0], arg.problem)
        for problem in arg.brace_problems:
            if hydra or not problem.heuristic:
                yield RULE.at(component, arg.source_offset(source, problem.start), problem.message)
        for placeholder in arg.placeholders:
            message = placeholder.problem
            if placeholder.is_artifact_list:
                port = component.port(placeholder.name or "")
                if port is not None and not port.is_list:
                    message = "artifact placeholder needs .path or .uri"
            if message is not None and (hydra or not placeholder.heuristic):
                yield RULE.at(component, arg.source_offset(source, placeholder.start), message)
