"""Every lesson notebook keeps the house conventions that make it run on Colab, in CI and on a laptop:
the exact setup cell (installing from pyproject's repository URL), a ``parameters`` cell that leaves
the profile to the environment, stored outputs from one clean top-to-bottom cpu-profile run, and an
"Open in Colab" link in docs/colab.md. nbval runs the notebooks; this checks what running cannot."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from test_colab import SETUP_CELL, URL

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PROFILE_LINE = re.compile(r"^PROFILE = None\b", re.M)
CHOICE_LINES = ("PROFILE = report_environment(PROFILE)", "config = get_config(PROFILE)")

pytestmark = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)


def _code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _tagged(notebook, tag: str) -> list[int]:
    return [i for i, cell in enumerate(notebook.cells) if tag in cell.metadata.get("tags", [])]


def test_is_valid_notebook_json_for_the_python3_kernel(path):
    json.loads(path.read_text(encoding="utf-8"))  # a merge conflict or a truncated write fails here
    notebook = _read(path)
    nbformat.validate(notebook)
    # Colab (and a fresh Jupyter) knows the kernel "python3"; a local venv's kernel name is unknown there.
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3", notebook.metadata.get("kernelspec")


def test_title_first_then_the_setup_cell(path):
    cells = _read(path).cells
    title = cells[0]
    assert title.cell_type == "markdown" and title.source.startswith("# "), "a title and what you will learn first"
    assert cells[1].cell_type == "code" and "setup" in cells[1].metadata.get("tags", [])
    assert cells[1].source == SETUP_CELL, "every notebook's setup cell is the same text (notebook 01's)"


def test_parameters_cell_leaves_the_profile_to_the_environment(path):
    notebook = _read(path)
    tagged = _tagged(notebook, "parameters")
    assert len(tagged) == 1, f"cells tagged 'parameters': {tagged}"
    code = _code_cells(notebook)
    params = notebook.cells[tagged[0]]
    # No code may run before the profile is chosen: the parameters cell is the first after setup.
    assert code.index(params) == 1
    # None, not a profile name: a hard-coded "cpu" would beat QRSR_PROFILE=smoke in CI and the GPU on Colab.
    assert PROFILE_LINE.search(params.source), params.source
    following = params.source + "\n" + code[2].source if len(code) > 2 else params.source
    lines = [line.strip() for line in following.splitlines()]
    assert all(line in lines for line in CHOICE_LINES), f"the parameters cell or the next one must run {CHOICE_LINES}"
    assert lines.index(CHOICE_LINES[0]) < lines.index(CHOICE_LINES[1])


def _text(output) -> str:
    if output.output_type == "stream":
        return output.text
    return "".join(output.get("data", {}).get("text/plain", ""))


def test_stored_outputs_come_from_one_clean_cpu_profile_run(path):
    code = _code_cells(_read(path))
    errors = [(i, o.get("ename")) for i, cell in enumerate(code) for o in cell.outputs if o.output_type == "error"]
    assert not errors, f"stored error outputs in code cells {errors}"
    tracebacks = [i for i, cell in enumerate(code) for o in cell.outputs
                  if "Traceback (most recent call last)" in _text(o)]
    assert not tracebacks, f"stored tracebacks in code cells {tracebacks}"
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"execution counts {counts}: run it top to bottom in a fresh kernel "
        f"(QRSR_PROFILE=cpu jupyter nbconvert --to notebook --execute --inplace {path.relative_to(ROOT)})")
    reports = [re.search(r"\bprofile: (\w+)", _text(o)) for cell in code if "report_environment(" in cell.source
               for o in cell.outputs]
    profiles = [match.group(1) for match in reports if match]
    assert profiles == ["cpu"], f"the stored outputs were made with profile(s) {profiles}, not 'cpu'"


def test_docs_open_it_in_colab(path):
    docs = (ROOT / "docs" / "colab.md").read_text(encoding="utf-8")
    url = f"https://colab.research.google.com/github/{URL.removeprefix('https://github.com/')}/blob/main/"
    assert url + path.relative_to(ROOT).as_posix() in docs, f"docs/colab.md lacks the Open-in-Colab link of {path.name}"
