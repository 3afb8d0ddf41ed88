"""Lets pre-commit install this repository's hook (``.pre-commit-hooks.yaml``): for a ``language: python``
hook it runs ``pip install .`` at the repository root, which is not itself a package (see packages/*).
This distribution only depends on the linter, ``hydra-vertex-yaml-lint`` from packages/hydra-yaml-lint,
which provides the ``hydra-yaml-lint`` console script the hook runs. Hatch does not read this file;
packages/hydra-yaml-lint/tests/test_lint_precommit.py installs the hook through it."""

from pathlib import Path

from setuptools import setup

LINTER = Path(__file__).resolve().parent / "packages" / "hydra-yaml-lint"

setup(
    name="hydra-vertex-yaml-lint-hook",
    version="0.1.0",
    packages=[],
    py_modules=[],
    install_requires=[f"hydra-vertex-yaml-lint @ {LINTER.as_uri()}"],
)
