"""Mutation score of the modules whose numbers users rely on (issue 24), tabulated from mutmut's results.

mutmut (3.8) changes one operator, constant or argument at a time in a copy of the package (``mutants/``) and
runs the tests that reach the changed function; a mutant no test notices "survived". Its configuration is in
``pyproject.toml`` (``[tool.mutmut]``: the modules, the fast tests, ``-m "not slow"``). Two runs, because a
TensorFlow test costs ~15 s a mutant on 2 cores and every mutant of these modules would take hours:

    pip install mutmut==3.8.1
    mutmut run --max-children 2 "qrsr_helpers.decode.*" "qrsr_helpers.payload.*" \\
        "qrsr_helpers.evaluate.*" "qrsr_helpers.inference.*"                  # NumPy / OpenCV: all of them
    mutmut run --max-children 2 "qrsr_helpers.srgan.x_adversarial_losses*" "qrsr_helpers.srgan.x_srgan_step*" \\
        "qrsr_helpers.srgan.x_control_step*" "qrsr_helpers.losses.*"          # the SRGAN maths, by name
    python benchmarks/mutation_score.py            # this table (Markdown), from mutants/**/*.meta
    mutmut run --max-children 2 "qrsr_helpers.erasures.*" "qrsr_helpers.ladder.*"  # issue 22's decoding
    python benchmarks/mutation_score.py erasures ladder    # its rows alone

The score is killed / (killed + survived) over mutants some test reaches; "no tests" are functions the fast
tests never call (the JAX step, the Keras SRGAN class, tiling of photos larger than a tile: covered by the slow
tests or by notebooks, not by this run). ``EQUIVALENT`` lists survivors that cannot change what a user sees,
with the reason; any other survivor is a gap in the tests.
"""

from __future__ import annotations

import fnmatch
import json
import sys
from collections import Counter
from pathlib import Path

MUTANTS = Path("mutants")
# Surviving mutants that compute the same thing as the code (equivalent), with why.
EQUIVALENT = {
    "qrsr_helpers.payload.x__symbol_key__mutmut_*": "codec names are case-insensitive ('UTF-8' == 'utf-8')",
    "qrsr_helpers.payload.x_one_payload_per_symbol__mutmut_34": "entries are (order, ...) tuples: sorting them "
                                                                "whole sorts by order",
    "qrsr_helpers.erasures.x_module_grid__mutmut_50": "astype(None) is float64, as asked",
    "qrsr_helpers.erasures.x_module_grid__mutmut_77": "NumPy reads reshape(-2, ...) as reshape(-1, ...)",
    "qrsr_helpers.erasures.x_fitted_values__mutmut_2[15]": "astype(None): float64 indices of whole values, which "
                                                          "SciPy casts as it would ints",
    "qrsr_helpers.erasures.x_fitted_values__mutmut_107": "astype(None) is float64, as asked",
    "qrsr_helpers.erasures.x_corrected__mutmut_16": "erasing past the reserve is tried and rejected by 2 x wrong + "
                                                    "erased <= check - SLACK",
    "qrsr_helpers.erasures.x_corrected_stream__mutmut_[35]": "packing the (codewords, 8) bits flat gives the same "
                                                             "bytes as row by row",
    "qrsr_helpers.erasures.x_decoded__mutmut_48": "None is False in a bool array",
    "qrsr_helpers.erasures.x_decoded__mutmut_51": "remainder bits: no decoder reads them",
    "qrsr_helpers.erasures.x_decoded__mutmut_[67][623]": "the redrawn clean symbol's quiet zone or module aspect: "
                                                         "zxing reads it either way",
    "qrsr_helpers.erasures.x_blocks__mutmut_11": "check-order keys past the block's length: never looked up",
    "qrsr_helpers.ladder.x_erasures__mutmut_13": "the rung's image is 2-D there (to_gray_uint8): shape[:3] is "
                                                 "shape[:2]",
    "qrsr_helpers.ladder.x_rescaled__mutmut_16": "the rungs' factors (1.25; 0.75 and 1.5 in the benchmark) are "
                                                 "never exactly 1",
}


def statuses() -> dict[str, str]:
    from mutmut.stats import status_by_exit_code

    found = {}
    for meta in sorted(MUTANTS.rglob("*.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            found[name] = "not checked" if code is None else status_by_exit_code[code]
    return found


def reason(name: str) -> str | None:
    return next((why for pattern, why in EQUIVALENT.items() if fnmatch.fnmatch(name, pattern)), None)


def main() -> int:
    if not MUTANTS.is_dir():
        print("no mutants/ here: run mutmut first (see this file's docstring)", file=sys.stderr)
        return 2
    found = statuses()
    if sys.argv[1:]:  # only these modules (a run by name leaves the others "not checked")
        found = {n: s for n, s in found.items() if n.split(".")[1] in sys.argv[1:]}
    modules = sorted({name.split(".")[1] for name in found})
    print("| module | mutants | killed | survived (equivalent) | no tests | not checked | score |")
    print("|---|---|---|---|---|---|---|")
    for module in modules:
        mine = {n: s for n, s in found.items() if n.split(".")[1] == module}
        count = Counter(mine.values())
        killed = count["killed"] + count["timeout"] + count["caught by type check"]
        survived = [n for n, s in mine.items() if s == "survived"]
        equivalent = sum(1 for n in survived if reason(n))
        checked = killed + len(survived)
        score = f"{killed / checked:.1%}" if checked else "-"
        print(f"| {module} | {len(mine)} | {killed} | {len(survived)} ({equivalent}) | {count['no tests']} | "
              f"{count['not checked']} | {score} |")
    gaps = [n for n, s in found.items() if s == "survived" and not reason(n)]
    print(f"\nsurvivors that are not known to be equivalent: {len(gaps)}")
    for name in gaps:
        print(f"- `{name}`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
