"""Numbers in prose cannot drift from what produced them (issue 21).

A measured number a reader sees in a notebook's markdown, the README or ``benchmarks/README.md`` — a decimal, a
percentage, a ratio, a time, an interval — must be found where it comes from:

* in a notebook, in the stored outputs of that notebook's code cells (so re-running the notebook and re-reading
  its prose are the same act), or in a results file the same section cites by path;
* in the README files, in a results file the same section cites by path (``benchmarks/results/…``, the model
  card, a run record).

"Found" allows the prose to round: ``97 %`` matches an output ``0.973`` or ``97.3``; ``2.2×`` matches ``2.23``.
Numbers that are definitions, not measurements (the tutorial's ``shear_range=0.2``, a ``1e-3`` weight, a
threshold), are listed below with the reason, per file. The last tests plant a mismatch and show it is caught.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DOCUMENTS = [ROOT / "README.md", ROOT / "benchmarks" / "README.md"]

# A number a reader takes as measured: it has a decimal point, or a unit that says "measured" (%, ×, dB, s,
# min, ms, px/module, images/s), or a ± before it. Plain integers (128 px, 16 blocks, 500 codes, version 4) are
# sizes the code sets, not results, and are not checked.
_NUMBER = r"\d+(?:,\d{3})*(?:\.\d+)?"
MEASURED = re.compile(
    rf"(?P<pm>±\s?)?(?<![\w.×/^-])(?P<value>{_NUMBER})(?![\w.]*[\w])"
    r"(?P<unit>\s?(?:%|×(?!\s?\d)|x(?![\w])(?!\s?\d)|dB|s/file|s(?![\w])|min(?![\w])|ms(?![\w])|MB|GB|KB|pt|points?|"
    r"px/module|pixels? per module|images/s|steps/s))?")
OUTPUT_NUMBER = re.compile(rf"-?{_NUMBER}(?:e-?\d+)?")
CITED = re.compile(r"(?:(?:benchmarks/)?results/[\w./{},*-]+|qrsr_helpers/weights/[\w./-]+\.(?:md|json)"
                   r"|docs/[\w./-]+\.md|notebooks/\d\d_\w+\.ipynb)")

# A share or count in words cannot be checked against an output ("nearly nine codes in ten" stood beside 97.3 %):
# a measured share is written as the number a cell prints.
IN_WORDS = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine)\b(?: [a-z]+){0,2} (?:in|out of) "
                      r"(?:two|three|four|five|six|seven|eight|nine|ten|a hundred)\b|\b(?:a few )?dozens?\b", re.I)

# Definitions and settings quoted in prose, not measurements: (file name, number as written) -> why.
DEFINITIONS = {
    "02_augmentation.ipynb": {"0.2", "0.2°", "1.2", "0.8", "0.5", "1.5", "-0.2°",  # ImageDataGenerator's arguments
                              "95 %"},  # the confidence level the paired comparison is asked for, chosen not measured
    "06_training.ipynb": {"0.5", "50 %", "95 %"},  # D(x) = 0.5 at equilibrium, 50 % accuracy; 95 %: CI level
    "07_evaluation.ipynb": {"7 %", "30 %"},  # the QR standard's error-correction capacity at levels L and H
    "README.md": {"70 %"},  # benchmarks/README.md: the target "≥ 70 % of the measured GEMM peak", not a result
}


@dataclass(frozen=True)
class Claim:
    where: str
    text: str
    value: float
    decimals: int
    percent: bool


def claims(markdown: str, where: str) -> list[Claim]:
    found = []
    for match in MEASURED.finditer(markdown):
        unit = (match["unit"] or "").strip()
        if "." not in match["value"] and not unit and not match["pm"]:
            continue  # a plain integer: a size, a count, a version
        if unit in ("x", "×") and markdown[max(0, match.start() - 1):match.start()] in ("×", "x"):
            continue
        number = match["value"].replace(",", "")
        decimals = len(number.split(".")[1]) if "." in number else 0
        found.append(Claim(where, match.group(0).strip(), float(number), decimals, unit == "%"))
    found += [Claim(where, match.group(0), float("nan"), 0, False) for match in IN_WORDS.finditer(markdown)]
    return found


def numbers_in(text: str) -> set[float]:
    values = set()
    for token in OUTPUT_NUMBER.findall(text):
        try:
            values.add(abs(float(token.replace(",", ""))))
        except ValueError:
            continue
    return values


def supported(claim: Claim, values: set[float]) -> bool:
    """The claim, as written, is one of ``values`` rounded to the claim's decimals (percentages also as shares)."""
    tolerance = 0.5 * 10 ** -claim.decimals + 1e-9
    for value in values:
        candidates = [value, value * 100] if claim.percent or claim.decimals == 0 else [value]
        if any(abs(candidate - claim.value) <= tolerance for candidate in candidates):
            return True
    return False


def sections(blocks: list[tuple[str, str]]) -> list[tuple[str, str, list[str]]]:
    """(where, text, cited paths) for each block; a block's citations are those of its whole section: the blocks
    from one heading to the next (a table often cites its source in the paragraph under it)."""
    groups: list[list[tuple[str, str]]] = []
    for where, text in blocks:
        if not groups or re.match(r"^#{1,3} ", text.lstrip()):
            groups.append([])
        groups[-1].append((where, text))
    out = []
    for group in groups:
        cited = [path for _, text in group for path in CITED.findall(text)]
        out += [(where, text, cited) for where, text in group]
    return out


def expand(cited: str) -> list[str]:
    """``results/x.{md,json}`` -> both names (the READMEs write file families that way)."""
    braces = re.search(r"\{([^}]*)\}", cited)
    if not braces:
        return [cited]
    return [name for option in braces[1].split(",")
            for name in expand(cited[:braces.start()] + option + cited[braces.end():])]


def cited_numbers(paths: list[str], base: Path) -> set[float]:
    values = set()
    for cited in paths:
        for name in expand(cited.rstrip(".,);").split("#")[0]):
            root = ROOT if name.startswith(("benchmarks/", "qrsr_helpers/", "docs/", "notebooks/")) else base
            matches = sorted(root.glob(name)) if "*" in name else [root / name]
            for path in matches:
                files = sorted(path.rglob("*")) if path.is_dir() else [path]
                for file in files:
                    if file.is_file() and file.suffix == ".ipynb":
                        values |= numbers_in("\n".join(_outputs(c) for c in nbformat.read(file, as_version=4).cells))
                    elif file.is_file() and file.suffix in (".md", ".json", ".csv", ".log"):
                        values |= numbers_in(file.read_text(encoding="utf-8", errors="replace"))
    return values


def _outputs(cell: nbformat.NotebookNode) -> str:
    texts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            texts.append(output.text)
        else:
            texts.extend(str(v) for k, v in output.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(texts)


SUMMARY = re.compile(r"^#{1,3} .*(take away|takeaway|summary|recap|exercise)", re.I | re.M)


def unsupported_in_notebook(notebook: nbformat.NotebookNode, name: str) -> list[Claim]:
    """A markdown cell's numbers must be printed by a code cell of its own section (heading to heading); a
    summary section ("What to take away") may quote any output of the notebook."""
    section_of, section = [], 0
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and re.search(r"^#{1,3} ", cell.source, re.M):
            section += 1
        section_of.append(section)
    everything = numbers_in("\n".join(_outputs(cell) for cell in notebook.cells))
    allowed = DEFINITIONS.get(name, set())
    missing = []
    blocks = [(i, cell.source) for i, cell in enumerate(notebook.cells) if cell.cell_type == "markdown"]
    for (index, text), (where, _, cited) in zip(blocks, sections([(f"{name}[{i}]", t) for i, t in blocks])):
        if SUMMARY.search(text) or SUMMARY.search(_heading_above(notebook, index)):
            produced = everything
        else:
            produced = numbers_in("\n".join(_outputs(cell) for cell, s in zip(notebook.cells, section_of)
                                             if s == section_of[index]))
        values = produced | cited_numbers(cited, ROOT)
        missing += [c for c in claims(strip_code(text), where) if c.text not in allowed and not supported(c, values)]
    return missing


def _heading_above(notebook: nbformat.NotebookNode, index: int) -> str:
    for cell in reversed(notebook.cells[:index + 1]):
        if cell.cell_type == "markdown" and re.search(r"^#{1,3} ", cell.source, re.M):
            return cell.source
    return ""


def strip_code(markdown: str) -> str:
    """Code spans and blocks quote code (``rotation_range=40``), not results."""
    markdown = re.sub(r"```.*?```", "", markdown, flags=re.S)
    return re.sub(r"`[^`]*`", "", markdown)


def unsupported_in_document(path: Path) -> list[Claim]:
    return unsupported_in_document_text(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), path.parent)


def unsupported_in_document_text(text: str, name: str, base: Path) -> list[Claim]:
    paragraphs = [(f"{name}:{i}", block) for i, block in enumerate(text.split("\n\n"))]
    allowed = DEFINITIONS.get(Path(name).name, set())
    missing = []
    for where, text, cited in sections(paragraphs):
        values = cited_numbers(cited, base)
        missing += [c for c in claims(strip_code(text), where) if c.text not in allowed and not supported(c, values)]
    return missing


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_number_in_a_notebooks_prose_is_in_its_outputs(path):
    missing = unsupported_in_notebook(nbformat.read(path, as_version=4), path.name)
    listed = "\n".join(f"  {c.where}: {c.text!r}" for c in missing)
    assert not missing, f"numbers in prose that no output of their section prints:\n{listed}"


@pytest.mark.parametrize("path", DOCUMENTS, ids=[str(p.relative_to(ROOT)) for p in DOCUMENTS])
def test_every_number_in_the_readmes_is_in_the_file_it_cites(path):
    missing = unsupported_in_document(path)
    assert not missing, "numbers without a cited source:\n" + "\n".join(f"  {c.where}: {c.text!r}" for c in missing)


def _notebook(*cells) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    for cell in cells:
        if isinstance(cell, str):
            notebook.cells.append(nbformat.v4.new_markdown_cell(cell))
        else:
            code = nbformat.v4.new_code_cell("print(...)")
            code.outputs = [nbformat.v4.new_output("stream", name="stdout", text=cell[0])]
            notebook.cells.append(code)
    return notebook


def test_a_planted_mismatch_is_caught():
    printed = ("decode rate 0.973, PSNR 29.85 dB\n",)
    assert not unsupported_in_notebook(_notebook("## Rates", printed, "It reads 97 % at 29.9 dB."), "x.ipynb")
    for prose in ("It reads 87 % of codes.", "It reads 97.5 % of codes.", "PSNR is 28 dB.", "2.2× more",
                  "nearly nine codes in ten", "a few dozen steps", "±15 points"):
        assert unsupported_in_notebook(_notebook("## Rates", printed, prose), "x.ipynb"), prose
    # an output of another section does not support a claim (prose must sit next to what it quotes) ...
    assert unsupported_in_notebook(_notebook("## A", printed, "## B", "It reads 97 %."), "x.ipynb")
    # ... except in the summary, which may quote the whole notebook
    assert not unsupported_in_notebook(_notebook("## A", printed, "## What to take away\n97 %"), "x.ipynb")
    # settings are not measurements: integers, sizes and code spans pass
    assert not unsupported_in_notebook(_notebook("## A", "128 × 128 px, 16 blocks, `shear_range=0.2`"), "x.ipynb")


def test_a_planted_mismatch_in_a_real_notebook_and_readme_is_caught(tmp_path):
    planted_in = []
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        unsupported = unsupported_in_notebook(notebook, path.name)
        before, bad = len(unsupported), {c.text for c in unsupported}
        for cell in notebook.cells:
            found = claims(strip_code(cell.source), "") if cell.cell_type == "markdown" else []
            found = [c for c in found if c.value == c.value and c.text not in bad  # supported by an output
                     and c.text not in DEFINITIONS.get(path.name, set())
                     and cell.source.count(c.text) == strip_code(cell.source).count(c.text)]
            if found:
                cell.source = cell.source.replace(found[0].text, found[0].text.replace(
                    re.search(_NUMBER, found[0].text)[0], "123.45"), 1)
                break
        else:
            continue
        assert len(unsupported_in_notebook(notebook, path.name)) == before + 1, path.name
        planted_in.append(path.name)
    assert len(planted_in) >= 4, planted_in  # most notebooks quote a measured number somewhere
    readme = ROOT / "README.md"
    text = readme.read_text()
    table_row = next(line for line in text.splitlines() if line.startswith("| bicubic"))
    # the row's first measured number becomes one no results file holds (a plausible one, such as 7.3 %, may be
    # a true number of another table the same section cites)
    planted = text.replace(table_row, re.sub(rf"\| {_NUMBER} %", "| 123.45 %", table_row, count=1))
    assert planted != text
    copy = tmp_path / "README.md"
    copy.write_text(planted)
    assert len(unsupported_in_document_text(planted, "README.md", ROOT)) > len(unsupported_in_document(readme))


if __name__ == "__main__":  # a report of every unsupported number, for editing
    for nb in NOTEBOOKS:
        for c in unsupported_in_notebook(nbformat.read(nb, as_version=4), nb.name):
            print(c.where, repr(c.text))
    for doc in DOCUMENTS:
        for c in unsupported_in_document(doc):
            print(c.where, repr(c.text))
    print(json.dumps({"notebooks": len(NOTEBOOKS)}))
