"""Wall time of every lesson notebook in one profile, each in a fresh kernel, as a learner would run it.

Each notebook runs top to bottom with ``QRSR_PROFILE`` set (nbclient, the engine of ``jupyter nbconvert
--execute``), from the ``notebooks/`` folder, with generated data in a fresh temporary folder (so data
generation is timed too, as on a learner's first run). ``--store`` writes the executed notebook back:
that is how the stored outputs are made (``--profile cpu --store``). Prints a Markdown table with the CPU
model and writes ``notebook_times_<profile>.json`` to ``--out``.

    python benchmarks/notebook_times.py --profile cpu --store          # all eight, outputs stored
    python benchmarks/notebook_times.py --profile smoke 01 06          # some, by number
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from pathlib import Path

from machine import cpu_model  # benchmarks/machine.py

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"




def run(path: Path, profile: str, store: bool, timeout: int) -> dict:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="qrsr-nb-data-") as data:
        os.environ.update(QRSR_PROFILE=profile, QRSR_DATA_DIR=data)
        client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(NOTEBOOKS)}})
        start, cpu = time.perf_counter(), os.times()
        error = None
        try:
            client.execute()
        except Exception as failure:  # noqa: BLE001 - report it in the table, go on with the next notebook
            error = f"{type(failure).__name__}: {str(failure).strip().splitlines()[-1][:200]}"
        seconds = time.perf_counter() - start
        children = os.times()
    if store and error is None:
        nbformat.write(notebook, path)
    return dict(notebook=path.name, profile=profile, seconds=round(seconds, 1),
                kernel_cpu_seconds=round(children.children_user + children.children_system
                                         - cpu.children_user - cpu.children_system, 1),
                load_avg=round(os.getloadavg()[0], 1), error=error, size_kb=round(path.stat().st_size / 1024))


# The `cpu` part of each notebook's **Runtime:** line, rewritten from the measurement (``--store --profile cpu``),
# so the time a learner reads is the one this script measured, on the machine it names.
RUNTIME = re.compile(r"`cpu` [^·]*?(?= · `gpu`)", re.S)


def stamp_runtime(path: Path, seconds: float, machine: str) -> None:
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    stamp = (f"`cpu` {seconds / 60:.1f} min on {os.cpu_count()} CPU cores ({machine}, measured: "
             f"`benchmarks/results/notebook_times_cpu.md`)")
    source, found = RUNTIME.subn(stamp, notebook.cells[0].source, count=1)
    if not found:  # the table is still written; the test of the prose then names the stale line
        print(f"{path.name}: its first cell has no '`cpu` ... · `gpu`' runtime line to update", flush=True)
        return
    notebook.cells[0].source = source
    nbformat.write(notebook, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="*", help="notebook numbers (default: all)")
    parser.add_argument("--profile", default="cpu", choices=("smoke", "cpu", "gpu"))
    parser.add_argument("--store", action="store_true", help="write the executed notebooks back (stored outputs)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.which:
        paths = [p for p in paths if p.name[:2] in {w.zfill(2) for w in args.which}]
    rows = []
    for path in paths:
        rows.append(run(path, args.profile, args.store, args.timeout))
        print(json.dumps(rows[-1]), flush=True)
    header = (f"{cpu_model()}, {os.cpu_count()} cores, profile `{args.profile}`, {time.strftime('%Y-%m-%d')}; "
              f"command: python benchmarks/notebook_times.py --profile {args.profile}"
              f"{' --store' if args.store else ''} {' '.join(args.which)}".rstrip())
    measured = [dict(r, run=header) for r in rows]
    out = Path(args.out)
    results = out / f"notebook_times_{args.profile}.json"
    if args.which and results.is_file():  # some notebooks re-run: the others keep their last measurement
        previous = json.loads(results.read_text())
        kept = [dict(r, run=r.get("run", previous["header"])) for r in previous["rows"]
                if r["notebook"] not in {m["notebook"] for m in measured}]
        rows = sorted(measured + kept, key=lambda r: r["notebook"])
    else:
        rows = measured
    runs = list(dict.fromkeys(r["run"] for r in rows))
    header = header if runs == [header] else "\n".join([f"Rows from {len(runs)} runs:"] + [f"- {h}" for h in runs])
    lines = [header, "", "| notebook | wall time | kernel CPU time | load avg | stored size | result |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['notebook']} | {r['seconds'] / 60:.1f} min | {r['kernel_cpu_seconds'] / 60:.1f} min | "
                     f"{r['load_avg']} | {r['size_kb']} KB | {r['error'] or 'ok'} |")
    print("\n".join(lines))
    if args.store and args.profile == "cpu":
        for r in measured:
            if r["error"] is None:
                stamp_runtime(NOTEBOOKS / r["notebook"], r["seconds"], cpu_model())
    out.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(dict(header=header, rows=rows), indent=2))
    (out / f"notebook_times_{args.profile}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
