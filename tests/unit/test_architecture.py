"""The package's structure stays true: imports point one way along the data flow, no cycles.

Layers, left to right (a package may import only packages to its left, plus the leaves):

    catalogue → scenario → model → engines → simulate → bayes → analysis → reports → cli → costspine (API)

Engines import nothing from costspine; leaves import only other leaves. Only ``bayes/fit.py``
imports PyMC/ArviZ; openpyxl has one writer, ``reports/excel.py``, and one reader,
``scenario/workbook_inputs.py`` (the Inputs sheet of an edited workbook read back: reading input
files belongs to ``scenario/``).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "costspine"
LEAVES = {"errors", "problems", "expressions", "params", "progress", "_rng", "_files", "_limits", "_text", "_version"}
LAYERS = ("catalogue", "scenario", "model", "engines", "simulate", "bayes", "analysis", "reports", "cli")
HEAVY_OWNERS = {
    "pymc": {"costspine.bayes.fit"},
    "arviz": {"costspine.bayes.fit"},
    "pytensor": {"costspine.bayes.fit"},
    "openpyxl": {"costspine.reports.excel", "costspine.scenario.workbook_inputs"},  # the writer and the one reader
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache  # each file parsed once per test run, not once per test (the package does not change meanwhile)
def _imports(path: Path) -> frozenset[str]:
    """Every module a file imports, at the top or inside functions (absolute names)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return frozenset(found)


def build_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        graph[name] = {m for m in _imports(path) if m in files and m != name}
    return graph


def layer_of(module: str):
    """("leaf", 0), (package, rank) or ("api", rank) for the package's own ``__init__``."""
    parts = module.split(".")
    if len(parts) == 1:
        return "api", len(LAYERS)
    if parts[1] in LEAVES:
        return "leaf", -1
    return parts[1], LAYERS.index(parts[1])


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return cycles


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in sorted(graph.items()):
        kind, rank = layer_of(module)
        for target in sorted(targets):
            t_kind, t_rank = layer_of(target)
            if kind == "engines" and t_kind != "engines":
                bad.append(f"{module} -> {target}: engines import nothing from costspine")
            elif kind == "leaf" and t_kind != "leaf":
                bad.append(f"{module} -> {target}: a leaf imports only leaves")
            elif t_kind == "leaf":
                continue
            elif t_rank > rank:
                bad.append(f"{module} -> {target}: {kind} may not import {t_kind} (to its right)")
    return bad


def test_the_package_has_no_import_cycles():
    assert find_cycles(build_graph()) == []


def test_every_import_points_left_along_the_data_flow():
    assert layer_violations(build_graph()) == []


def test_every_package_is_in_a_known_layer():
    unknown = {m.split(".")[1] for m in build_graph() if "." in m} - set(LAYERS) - LEAVES - {"data"}
    assert unknown == set()


@pytest.mark.parametrize("library", sorted(HEAVY_OWNERS))
def test_one_module_imports_each_heavy_library(library):
    importers = set()
    for path in PACKAGE.rglob("*.py"):
        if any(m == library or m.startswith(library + ".") for m in _imports(path)):
            importers.add(_module_name(path))
    assert importers <= HEAVY_OWNERS[library]


def test_the_checks_catch_a_cycle_and_a_back_edge():
    graph = {"costspine.model.a": {"costspine.simulate.b"}, "costspine.simulate.b": {"costspine.model.a"}}
    assert find_cycles(graph) == [["costspine.model.a", "costspine.simulate.b"]]
    assert layer_violations(graph) == ["costspine.model.a -> costspine.simulate.b: model may not import simulate (to its right)"]
