"""Every name a benchmark or script imports from the package, or from a sibling benchmark module, exists: cutting
the package must not leave a benchmark that fails on its first import (``gan_vs_control.py`` imported
``evaluate.module_contrast`` for a round after it had moved out of the package)."""

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted([*ROOT.glob("benchmarks/*.py"), *ROOT.glob("scripts/*.py")])


def imported_names(path: Path):
    """(module, name) of every absolute ``from M import N``, at any depth (benchmarks import inside functions)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            local = (path.parent / f"{node.module.split('.')[0]}.py").is_file()
            if node.module.split(".")[0] == "qrsr_helpers" or local:
                yield from ((node.module, alias.name) for alias in node.names)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_name_a_script_imports_from_the_project_exists(path, monkeypatch):
    monkeypatch.syspath_prepend(str(path.parent))  # as when the script runs: its folder first
    missing = []
    for module_name, name in imported_names(path):
        module = importlib.import_module(module_name)
        if not hasattr(module, name) and importlib.util.find_spec(f"{module_name}.{name}") is None:
            missing.append(f"from {module_name} import {name}")
    assert not missing, f"{path.relative_to(ROOT)}: " + "; ".join(missing)


def test_the_check_sees_imports_inside_functions(tmp_path):
    script = tmp_path / "probe.py"
    script.write_text("def f():\n    from qrsr_helpers.evaluate import module_contrast\n")
    assert ("qrsr_helpers.evaluate", "module_contrast") in set(imported_names(script))
    assert not hasattr(importlib.import_module("qrsr_helpers.evaluate"), "module_contrast")


def test_notebook_times_of_some_notebooks_keep_the_others_rows(tmp_path, monkeypatch):
    """``notebook_times.py 07 08`` re-runs two notebooks: the results file keeps the other six rows, each naming the
    run that measured it (it once rewrote the file with the two rows alone, and the prose checker lost its source)."""
    import json
    import sys

    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    notebook_times = importlib.import_module("notebook_times")
    monkeypatch.setattr(notebook_times, "run", lambda path, *a: dict(notebook=path.name, profile="smoke", seconds=6.0,
                                                                     kernel_cpu_seconds=6.0, load_avg=1.0, error=None,
                                                                     size_kb=1))
    first = ["notebook_times.py", "--profile", "smoke", "--out", str(tmp_path)]
    monkeypatch.setattr(sys, "argv", first)
    notebook_times.main()
    everything = json.loads((tmp_path / "notebook_times_smoke.json").read_text())
    monkeypatch.setattr(notebook_times, "run", lambda path, *a: dict(everything["rows"][0], notebook=path.name,
                                                                     seconds=60.0))
    monkeypatch.setattr(sys, "argv", [*first, "7", "08"])
    notebook_times.main()
    merged = json.loads((tmp_path / "notebook_times_smoke.json").read_text())
    assert [r["notebook"] for r in merged["rows"]] == [r["notebook"] for r in everything["rows"]]
    again = {r["notebook"][:2]: r for r in merged["rows"] if r["seconds"] == 60.0}
    assert sorted(again) == ["07", "08"] and all(r["run"].endswith("--profile smoke 7 08") for r in again.values())
    assert len({r["run"] for r in merged["rows"]}) == 2
    table = (tmp_path / "notebook_times_smoke.md").read_text()
    assert table.startswith("Rows from 2 runs:") and table.count("| 1.0 min |") == 2
