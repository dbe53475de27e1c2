"""Two generators on the same photo-like scenes, paired (issue 22): which reads more, with a 95 % interval.

Reads two ``benchmarks/photo_like.py`` JSON files run with the same ``--n --symbol-px --styles --seed`` (so the same
scenes and the same real photos) and different ``--weights``, and for every set and both views (the first read and
the default with its ladder) prints the rates, the scenes only one generator reads, the difference with its paired
95 % interval and McNemar's exact p (``evaluate.paired_comparison``), and the misreads of each. No asserts.

    python benchmarks/photo_like_paired.py BASELINE.json CANDIDATE.json [--out OUT.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

VIEWS = {"product path": "first read (--fast)", "+ ladder": "default (+ ladder)"}  # JSON key -> what it is


def compare(base: dict, cand: dict) -> list[str]:
    from qrsr_helpers.evaluate import paired_comparison

    lines = ["| set | view | baseline | candidate | only baseline / only candidate | difference (95 % CI) | "
             "McNemar p | misreads baseline / candidate |", "|---|---|---|---|---|---|---|---|"]
    for name, rows in cand["rows"].items():
        if name not in base["rows"]:
            continue
        old = {r["file"]: r for r in base["rows"][name]}
        if set(old) != {r["file"] for r in rows}:
            sys.exit(f"{name}: the two runs hold different files: run photo_like.py with the same arguments")
        pairs = [(old[r["file"]], r) for r in rows]
        for view in VIEWS:
            c = paired_comparison([n[view] for _, n in pairs], [o[view] for o, _ in pairs])  # candidate - baseline
            misreads = f"{sum(o[view + ' misread'] for o, _ in pairs)} / {sum(n[view + ' misread'] for _, n in pairs)}"
            lines.append(f"| {name} | {VIEWS[view]} | {c['rate_b']:.1%} | {c['rate_a']:.1%} | "
                         f"{c['only_b']} / {c['only_a']} | "
                         f"{c['difference']:+.1%} ({c['low']:+.1%} to {c['high']:+.1%}) | {c['mcnemar_p']:.3g} | "
                         f"{misreads} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("baseline", type=Path)
    parser.add_argument("candidate", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    base, cand = (json.loads(p.read_text()) for p in (args.baseline, args.candidate))
    head = [f"Baseline `{base.get('weights', 'bundled')}` ({base['runtime']}, `{base['command']}`, {base['date']}); "
            f"candidate `{cand.get('weights', 'bundled')}` ({cand['runtime']}, `{cand['command']}`, {cand['date']}); "
            f"{cand['cpu']}. Difference = candidate - baseline on the same scenes.", ""]
    text = "\n".join(head + compare(base, cand)) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
