"""``pipeline-sdk compile [--output FILE] [--config-dir DIR] [OVERRIDES...]``."""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline_sdk.commands.common import command_parser, run_command

DESCRIPTION = (
    "Compile the training pipeline to KFP v2 YAML (JSON when FILE ends in .json): lint the component "
    "YAMLs, pin each component's image to its installed package version, apply each step's resources."
)


def main(argv: list[str]) -> int:
    parser = command_parser("compile", DESCRIPTION)
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="where to write the pipeline (default: <pipeline.name>.yaml)"
    )

    def body() -> int:
        args = parser.parse_intermixed_args(argv)
        from pipeline_sdk.compiler import compile_pipeline
        from pipeline_sdk.sweep import load_with_sweep

        cfg, sweep = load_with_sweep(args.overrides, args.config_dir, args.multirun)
        output = Path(args.output) if args.output else Path(f"{cfg.pipeline.name}.yaml")
        compiled = compile_pipeline(cfg, output, sweep)
        for warning in compiled.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        print(f"compiled {cfg.pipeline.name} -> {compiled.path}")
        if sweep is not None:
            print(f"  sweep of {len(sweep.trials)} trials over {', '.join(sweep.parameters)}")
        for package, image in compiled.images.items():
            print(f"  image {package}: {image}")
        return 0

    return run_command("compile", body)
