"""HY102 malformed-placeholder: a placeholder KFP will not resolve.

Reported: unbalanced braces (``{$.inputs...}``, ``{{...}``), an unknown root (anything other than
``$``, ``$.inputs``, ``$.outputs`` and KFP's constants such as ``$.outputs.output_file`` or
``$.pipeline_job_name``), an artifact without ``.path``/``.uri``, a parameter with one, an output
parameter without ``.output_file``, and v1 structures KFP does not know (``{inputValues: x}``).
KFP passes such text through verbatim, so the container receives the literal braces.

    # bad
    - data.data_dir={{$.inputs.artifacts['dataset']}}
    # good
    - data.data_dir={{$.inputs.artifacts['dataset'].path}}
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
    for arg in component.args:
        if arg.problem is not None:
            yield RULE.at(component, source.span(arg.node)[0], arg.problem)
        for problem in arg.brace_problems:
            yield RULE.at(component, arg.source_offset(source, problem.start), problem.message)
        for placeholder in arg.placeholders:
            if placeholder.problem is not None:
                yield RULE.at(component, arg.source_offset(source, placeholder.start), placeholder.problem)
