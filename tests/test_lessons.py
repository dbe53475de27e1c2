"""A lesson shows its essential code in the notebook and the package runs the same text (d2l's ``#@save``):
the cell tagged ``lesson-<name>`` must equal the package's code between its ``# --- lesson <name>:`` and
``# --- end of lesson <name>`` lines, character for character, so the lesson can never drift from what runs."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = [  # (notebook, lesson name, package file); the cell's tag is "lesson-" + name
    ("01_data_preparation.ipynb", "degradation", "qrsr_helpers/data/degrade.py"),
    ("05_vgg_loss.ipynb", "build-vgg", "qrsr_helpers/models/vgg.py"),
    ("05_vgg_loss.ipynb", "content-loss", "qrsr_helpers/losses.py"),
    ("06_training.ipynb", "srgan-step", "qrsr_helpers/srgan.py"),
    ("06_training.ipynb", "tutorial-step", "qrsr_helpers/tutorial.py"),
    ("07_evaluation.ipynb", "decode-rate", "qrsr_helpers/evaluate.py"),
]


def package_lesson(text: str, name: str) -> str:
    """The package's text between the markers of lesson ``name`` (the marker lines excluded)."""
    starts = [m.end() for m in re.finditer(rf"^# --- lesson {re.escape(name)}:.*\n", text, re.M)]
    ends = [m.start() for m in re.finditer(rf"^# --- end of lesson {re.escape(name)}\b.*$", text, re.M)]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(f"lesson {name!r} needs exactly one start marker and one end marker after it")
    return text[starts[0]:ends[0]].strip("\n")


def notebook_lesson(path: Path, name: str) -> str:
    notebook = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    cells = [cell for cell in notebook.cells if f"lesson-{name}" in cell.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells tagged 'lesson-{name}'"
    return cells[0].source.strip("\n")


@pytest.mark.parametrize("notebook, name, source", LESSONS, ids=[n for _, n, _ in LESSONS])
def test_the_notebook_shows_the_code_the_package_runs(notebook, name, source):
    shown = notebook_lesson(ROOT / "notebooks" / notebook, name)
    runs = package_lesson((ROOT / source).read_text(encoding="utf-8"), name)
    assert shown == runs, f"{notebook} cell 'lesson-{name}' and {source} differ: copy the package's text into the cell"


def test_a_change_on_either_side_is_caught():
    text = (ROOT / "qrsr_helpers/srgan.py").read_text(encoding="utf-8")
    lesson = package_lesson(text, "srgan-step")
    edited = text.replace("adv_weight * adv_loss", "adv_weight * 2 * adv_loss")
    assert package_lesson(edited, "srgan-step") != lesson
    with pytest.raises(ValueError):
        package_lesson(text.replace("# --- end of lesson srgan-step", "# end"), "srgan-step")
    with pytest.raises(ValueError):
        package_lesson(text, "tutorial-step")  # another file's lesson
