"""The package's shape: imports point one way (core <- tools <- front ends) and never form a cycle.

Every ``import`` and ``from ... import`` in ``qrsr_helpers`` is read from the source (AST), at module
level and inside functions alike (a lazy import is still a dependency), and resolved to a module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "qrsr_helpers"
CORE, TOOLS, FRONT, API = 0, 1, 2, 3
LAYERS = {
    "config": CORE, "errors": CORE, "io": CORE, "data": CORE, "models": CORE, "losses": CORE, "srgan": CORE,
    "tutorial": CORE, "quiet": CORE, "payload": CORE, "environment": CORE,
    "decode": TOOLS, "locate": TOOLS, "evaluate": TOOLS, "training": TOOLS, "inference": TOOLS, "plots": TOOLS,
    "ladder": TOOLS, "erasures": TOOLS,
    "cli": FRONT, "colab": FRONT,
}
NAMES = {CORE: "core", TOOLS: "tools", FRONT: "front end", API: "the public API"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports (``from . import x`` counts as importing module ``x`` when
    ``x`` is a module, else the package it comes from)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("qrsr_helpers")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("qrsr_helpers"):
                target = node.module
            else:
                continue
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target)
    return {m for m in found if m in known and m != name}


def layer(name: str) -> int:
    parts = name.split(".")
    return API if len(parts) == 1 else LAYERS[parts[1]]


GRAPH = {name: imports(name, path, set(modules())) for name, path in modules().items()}


def test_every_module_has_a_layer():
    unknown = sorted({name.split(".")[1] for name in GRAPH if "." in name} - set(LAYERS))
    assert not unknown, f"modules without a layer (add them to LAYERS): {unknown}"


@pytest.mark.parametrize("name", sorted(GRAPH))
def test_no_import_from_a_higher_layer(name):
    upward = sorted(m for m in GRAPH[name] if layer(m) > layer(name))
    assert not upward, (f"{name} ({NAMES[layer(name)]}) imports from a higher layer: "
                        + ", ".join(f"{m} ({NAMES[layer(m)]})" for m in upward))


def test_no_import_cycles():
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(GRAPH):
        if start not in state:
            visit(start, [start])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_walker_sees_imports(tmp_path):
    """The checks above would pass vacuously if the walker found nothing: it must see known edges."""
    assert "qrsr_helpers.io" in GRAPH["qrsr_helpers.inference"]
    assert "qrsr_helpers.inference" in GRAPH["qrsr_helpers.cli.enhance"]  # a lazy import inside a function
    assert "qrsr_helpers.config" in GRAPH["qrsr_helpers.colab"]
