"""Stored notebook outputs a teacher can hand out: no log noise, no progress-bar spam, a size budget."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
BUDGET_BYTES = 2_500_000  # all eight together
NOISE = {
    "an absl log line": re.compile(r"^[IWE]\d{4} [\d:.]+ +\d+ \S+:\d+\]", re.M),
    "absl's pre-init warning": re.compile(r"All log messages before absl::InitializeLog"),
    "cuInit": re.compile(r"cuInit"),
    "oneDNN's notice": re.compile(r"oneDNN custom operations"),
    "a CPU-feature notice": re.compile(r"rebuild TensorFlow with the appropriate compiler flags"),
    "a TensorFlow retracing warning": re.compile(r"triggered tf\.function retracing"),
    "Keras' shuffle warning": re.compile(r"`shuffle=True` was passed"),
    "a progress bar": re.compile(r"\d+/\d+ \[=*>?\.*\]|\r.*\d+%\|"),
}


def _streams(path: Path) -> list[tuple[int, str]]:
    notebook = nbformat.read(path, as_version=4)
    found = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                found.append((index, output.text))
            elif "text/plain" in output.get("data", {}):
                found.append((index, output.data["text/plain"]))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_stored_outputs_hold_no_log_noise(path):
    hits = [(index, what) for index, text in _streams(path) for what, pattern in NOISE.items() if pattern.search(text)]
    assert not hits, f"{path.name}: cells with noise (re-run with qrsr_helpers' setup): {hits}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_one_stream_output_per_cell_at_most_a_few(path):
    """171 progress-bar outputs in one cell was the old 06; a cell prints a few lines, not a log."""
    notebook = nbformat.read(path, as_version=4)
    crowded = [i for i, cell in enumerate(notebook.cells) if len(cell.get("outputs", [])) > 6]
    assert not crowded, f"{path.name}: cells with more than 6 outputs: {crowded}"


def test_the_eight_notebooks_fit_the_size_budget():
    sizes = {p.name: p.stat().st_size for p in NOTEBOOKS}
    assert sum(sizes.values()) <= BUDGET_BYTES, f"{sum(sizes.values()):,} bytes > {BUDGET_BYTES:,}: {sizes}"


def test_the_noise_patterns_catch_real_noise():
    samples = ["I0000 00:00:1795792271.100159   12418 port.cc:153] oneDNN custom operations are on.",
               "E0000 00:00:1795792272.704622   12418 cuda_platform.cc:52] failed call to cuInit: INTERNAL",
               " 3/25 [==>...........................] - ETA: 4s - loss: 0.3"]
    for sample in samples:
        assert any(pattern.search(sample) for pattern in NOISE.values()), sample
    assert not any(pattern.search("stage 1: 150 s, about 900 steps of 16 crops") for pattern in NOISE.values())


def test_notebook_07s_copy_of_the_adv_weight_sweep_is_the_benchmarks_result():
    """Notebook 07 shows the sweep's result without re-running it (half an hour of CPU): its cell holds a copy of
    ``benchmarks/results/adv_weight_sweep.json``, which must be the same numbers."""
    import ast
    import json

    root = NOTEBOOKS[0].parents[1]
    notebook = nbformat.read(root / "notebooks" / "07_evaluation.ipynb", as_version=4)
    cells = [c for c in notebook.cells if "adv-weight-sweep" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    tree = ast.parse(cells[0].source)
    shown = next(ast.literal_eval(node.value) for node in tree.body
                 if isinstance(node, ast.Assign) and node.targets[0].id == "SWEEP")
    result = json.loads((root / "benchmarks" / "results" / "adv_weight_sweep.json").read_text())
    measured = [r for r in result["paired_vs_control"] if r["generator"].startswith("adv_weight")
                and r["generator"] != "adv_weight 0"]
    assert len(shown) == len(measured) > 0
    for copy, source in zip(shown, measured):
        for key, value in copy.items():
            expected = source[key]
            assert value == (round(expected, 4) if isinstance(expected, float) else expected), (copy, key)
