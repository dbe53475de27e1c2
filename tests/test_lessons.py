"""A lesson shows its essential code in the notebook and the package runs the same text (d2l's ``#@save``):
the cells tagged ``lesson-*`` must equal the package's code between its ``lesson`` markers, character for
character, so the lesson can never drift from what runs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = [  # (notebook, cell tag, package file)
    ("06_training.ipynb", "lesson-srgan-step", "qrsr_helpers/srgan.py"),
    ("06_training.ipynb", "lesson-tutorial-step", "qrsr_helpers/tutorial.py"),
]
START, END = "# --- lesson:", "# --- end of lesson"


def package_lesson(text: str) -> str:
    """The package's text between the markers (the marker lines excluded)."""
    if text.count(START) != 1 or text.count(END) != 1:
        raise ValueError("a lesson needs exactly one start and one end marker")
    start = text.index("\n", text.index(START)) + 1
    return text[start:text.index(END)].strip("\n")


def notebook_lesson(path: Path, tag: str) -> str:
    notebook = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    cells = [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells tagged {tag!r}"
    return cells[0].source.strip("\n")


@pytest.mark.parametrize("notebook, tag, source", LESSONS, ids=[t for _, t, _ in LESSONS])
def test_the_notebook_shows_the_code_the_package_runs(notebook, tag, source):
    shown = notebook_lesson(ROOT / "notebooks" / notebook, tag)
    runs = package_lesson((ROOT / source).read_text(encoding="utf-8"))
    assert shown == runs, f"{notebook} cell {tag!r} and {source} differ: copy the package's text into the cell"


def test_a_change_on_either_side_is_caught():
    text = (ROOT / "qrsr_helpers/srgan.py").read_text(encoding="utf-8")
    lesson = package_lesson(text)
    edited = text.replace("adv_weight * adv_loss", "adv_weight * 2 * adv_loss")
    assert package_lesson(edited) != lesson
    with pytest.raises(ValueError):
        package_lesson(text.replace(END, "# end"))
