"""Every package's layout stays easy to see: no import cycle, no module over 400 lines, no function over 60.

Imports are counted wherever the source names them: module level, inside functions, and under
``if TYPE_CHECKING:``. A cycle that only type checkers or a lazy import see still ties the modules into one
unit: neither can be read, tested or moved alone.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGES = Path(__file__).resolve().parents[1] / "packages"
SOURCES = sorted(PACKAGES.glob("*/src"))
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 60


def _module_name(src: Path, path: Path) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: set[str]
) -> set[str]:
    """The modules of ``modules`` an import statement names. ``from x import y`` imports submodule
    ``x.y`` when there is one, else a name defined by ``x``; the parent packages that Python initialises
    on the way are not counted (every module would depend on its package's ``__init__``)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & modules
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, *([node.module] if node.module else [])])
    names = {f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names}
    return names & modules


def import_graph(src: Path) -> dict[str, set[str]]:
    """Module -> the modules of ``src`` it imports anywhere in its source (a package is its
    ``__init__``)."""
    files = {_module_name(src, path): path for path in sorted(src.rglob("*.py"))}
    modules = set(files)
    graph: dict[str, set[str]] = {module: set() for module in files}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module] |= _imported(node, module, is_package, modules) - {module}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_every_package_is_checked() -> None:
    assert {src.parent.name for src in SOURCES} >= {
        "data-prepare", "trainer", "hydra-yaml-lint", "pipeline-sdk", "select-best", "serve", "model-registry"
    }  # fmt: skip


@pytest.mark.parametrize("src", SOURCES, ids=lambda src: src.parent.name)
def test_no_import_cycle(src: Path) -> None:
    cycles = import_cycles(import_graph(src))
    assert cycles == [], "import cycles (type-checking and function-level imports included):\n" + "\n".join(
        " <-> ".join(cycle) for cycle in cycles
    )


def test_the_checker_sees_type_checking_function_level_and_relative_imports(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    sources = {
        "__init__.py": "VALUE = 1\n",
        "a.py": "from pkg import VALUE\n\n\ndef f():\n    from pkg import b\n",
        "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .sub.c import C\n",
        "sub/__init__.py": "",
        "sub/c.py": "from ..a import f\nimport os\n",
        "d.py": "import pkg.a\n",
    }
    for name, text in sources.items():
        (package / name).write_text(text)
    graph = import_graph(tmp_path)
    assert graph["pkg.a"] == {"pkg", "pkg.b"} and graph["pkg.sub.c"] == {"pkg.a"}
    assert import_cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c"]]


@pytest.mark.parametrize("src", SOURCES, ids=lambda src: src.parent.name)
def test_no_module_or_function_too_long_to_read_at_once(src: Path) -> None:
    long = []
    for path in sorted(src.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(src)
        if len(text.splitlines()) > MAX_MODULE_LINES:
            long.append(f"{where}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long.append(f"{where}:{node.lineno} {node.name}(): {length} lines")
    assert long == [], (
        f"over {MAX_MODULE_LINES} lines a module, {MAX_FUNCTION_LINES} a function:\n" + "\n".join(long)
    )
