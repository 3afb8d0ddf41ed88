"""Lets pre-commit install this repository's hook: for a `language: python` hook it runs `pip install .`
at the root, which is not itself a package (see packages/*). Hatch does not read this file."""

from pathlib import Path

from setuptools import setup

LINTER = Path(__file__).resolve().parent / "packages" / "hydra-yaml-lint"

setup(
    name="hydra-yaml-lint-pre-commit-hook",
    version="0.1.0",
    packages=[],
    py_modules=[],
    install_requires=[f"hydra-vertex-yaml-lint @ {LINTER.as_uri()}"],
)
