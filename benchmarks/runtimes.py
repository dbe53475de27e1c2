"""Runtime x precision for the bundled 16 x 64 generator on this CPU: what chose OpenVINO for the fast path.

Each row runs in a fresh process (``python benchmarks/inference.py --runtimes``): import time of the
runtime, load (+ compile/convert) time, first call, codes/s at batch 1 and batch 64 (32 -> 128, the
median of ``repeats`` timed calls after a warm-up), peak resident memory, the largest difference from
Keras fp32 on the same inputs ([0, 1] scale), and the decode rate (zxing) on the same fresh realistic codes.
Rows: TensorFlow (Keras) fp32 and ``mixed_bfloat16``; ONNX Runtime fp32; OpenVINO fp32 and bf16; LiteRT
fp32 (a ``.tflite`` converted from the same Keras model; its batch 64 runs as 4 x 16: larger batches fail to
prepare, "Conv im2col elements exceed the 32-bit integer limit"). Installed sizes are read from site-packages.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from machine import median_seconds  # benchmarks/machine.py

ROWS = (("tensorflow", "fp32"), ("tensorflow", "bf16"), ("onnxruntime", "fp32"), ("openvino", "fp32"),
        ("openvino", "bf16"), ("litert", "fp32"))
LITERT_BATCH = 16
PACKAGES = {"tensorflow": ["tensorflow", "keras"], "onnxruntime": ["onnxruntime"], "openvino": ["openvino"],
            "litert": ["ai_edge_litert"]}


def _runner(runtime: str, precision: str, folder: Path):
    """(seconds to import, seconds to load, run(x float32 NHWC) -> float32 NHWC)."""
    from qrsr_helpers.models.registry import export_path, weights_path

    onnx_file = str(export_path(weights_path("srresnet")))
    start = time.perf_counter()
    if runtime == "tensorflow":
        import keras
        imported = time.perf_counter()
        if precision == "bf16":
            keras.mixed_precision.set_global_policy("mixed_bfloat16")
        from qrsr_helpers.models.registry import config_for_weights, generator_from_config

        model = generator_from_config(config_for_weights(weights_path("srresnet")))
        model.load_weights(weights_path("srresnet"))
        run = lambda x: np.asarray(model.predict(x, batch_size=64, verbose=0), np.float32)
    elif runtime == "onnxruntime":
        import onnxruntime
        imported = time.perf_counter()
        session = onnxruntime.InferenceSession(onnx_file, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        run = lambda x: session.run(None, {name: x})[0]
    elif runtime == "openvino":
        import openvino  # noqa: F401
        imported = time.perf_counter()
        from qrsr_helpers.models.exported import ExportedGenerator

        model = ExportedGenerator(onnx_file, precision)
        if model.precision != precision:
            raise RuntimeError(f"{precision} is not supported on this CPU")
        run = model
    elif runtime == "litert":
        from ai_edge_litert.interpreter import Interpreter
        imported = time.perf_counter()
        tflite = folder / "srresnet.tflite"  # converting needs TensorFlow: done once, outside the timing
        interpreter = Interpreter(model_path=str(tflite), num_threads=os.cpu_count())

        def run_one(x):
            detail = interpreter.get_input_details()[0]
            if tuple(detail["shape"]) != x.shape:
                interpreter.resize_tensor_input(detail["index"], x.shape)
                interpreter.allocate_tensors()
            interpreter.set_tensor(detail["index"], x)
            interpreter.invoke()
            return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])

        # Batches above 16 fail to prepare: "Conv im2col elements exceed the 32-bit integer limit".
        run = lambda x: np.concatenate([run_one(x[i:i + LITERT_BATCH]) for i in range(0, len(x), LITERT_BATCH)])
    else:
        raise ValueError(runtime)
    return imported - start, time.perf_counter() - imported, run


def child(runtime: str, precision: str, folder: Path, repeats: int) -> dict:
    """One row, measured in this (fresh) process; inputs and the Keras fp32 reference come from ``folder``."""
    from qrsr_helpers.decode import decode_matches

    data = np.load(folder / "inputs.npz")
    lr, payloads = data["lr"].astype(np.float32) / 255.0, data["payloads"].tolist()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    import_s, load_s, run = _runner(runtime, precision, folder)
    start = time.perf_counter()
    run(lr[:1])
    first_s = time.perf_counter() - start
    b1 = median_seconds(lambda: run(lr[:1]), repeats * 5)
    b64 = median_seconds(lambda: run(lr[:64]), repeats)
    sr = np.concatenate([run(lr[i:i + 64]) for i in range(0, len(lr), 64)]).astype(np.float32)
    finite = bool(np.isfinite(sr).all())
    reference = data["reference"].astype(np.float32) / 255.0 if "reference" in data else None
    sr_uint8 = np.round(np.clip(sr, 0, 1) * 255).astype(np.uint8)
    return {"runtime": runtime, "precision": precision, "import_s": round(import_s, 2), "load_s": round(load_s, 2),
            "first_call_s": round(first_s, 3), "codes_per_s_b1": round(1 / b1, 1),
            "codes_per_s_b64": round(64 / b64, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "rss_before_mb": round(rss_before / 1024),
            "max_abs_diff": None if reference is None else round(float(np.abs(sr_uint8 / 255.0 - reference).max()), 4),
            "zxing": round(float(decode_matches(sr_uint8, payloads, "zxing").mean()), 4), "finite": finite,
            "sr": sr_uint8}


def installed_mb(runtime: str) -> float | None:
    """Size of the runtime's installed packages (site-packages folders), MB."""
    import importlib.util

    total = 0
    for name in PACKAGES[runtime]:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            return None
        folder = Path(next(iter(spec.submodule_search_locations)))
        total += sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    return round(total / 1e6)


def prepare(folder: Path, codes: int) -> None:
    """Fresh realistic codes (eval seed) and the .tflite for LiteRT (converted once with TensorFlow)."""
    from qrsr_helpers.config import Config
    from qrsr_helpers.data.pairs import generate_pairs

    pairs = generate_pairs(codes, Config.eval_seed, "realistic")
    np.savez(folder / "inputs.npz", lr=pairs.lr, payloads=np.array(pairs.payloads))
    try:
        import tensorflow as tf

        from qrsr_helpers.models.registry import load_pretrained

        model = load_pretrained("srresnet", backend="keras")
        signature = tf.function(lambda x: model(x, training=False),
                                input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
        converter = tf.lite.TFLiteConverter.from_concrete_functions([signature.get_concrete_function()], model)
        (folder / "srresnet.tflite").write_bytes(converter.convert())
    except Exception as error:  # noqa: BLE001 - the LiteRT row says why it is missing
        print(f"LiteRT conversion failed: {type(error).__name__}: {str(error)[:200]}", file=sys.stderr)


def table(codes: int = 256, repeats: int = 5) -> tuple[list[dict], str]:
    from machine import cpu_flags, cpu_model

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        prepare(folder, codes)
        for runtime, precision in ROWS:
            command = [sys.executable, str(Path(__file__).parent / "inference.py"), "--runtime-child",
                       f"{runtime}:{precision}:{folder}:{repeats}"]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                reason = (done.stderr.strip().splitlines() or ["failed"])[-1][:160]
                rows.append({"runtime": runtime, "precision": precision, "error": reason})
            else:
                rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
                if (runtime, precision) == ("tensorflow", "fp32"):  # the reference every other row is compared to
                    data = dict(np.load(folder / "inputs.npz"))
                    np.savez(folder / "inputs.npz", **data, reference=np.load(folder / "sr.npy"))
            rows[-1]["installed_mb"] = installed_mb(runtime)
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    lines = [f"{cpu_model()} ({cpu_flags()}), {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
             f"bundled SRResNet 16x64, 32 -> 128; {codes} fresh realistic codes (eval seed); each row a fresh process; "
             "command: `python benchmarks/inference.py --runtimes`", "",
             "| runtime | precision | import s | load s | first call s | codes/s batch 1 | codes/s batch 64 | "
             "peak RSS MB | installed MB | max abs diff vs Keras fp32 | zxing |", "|" + "---|" * 11]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['runtime']} | {r['precision']} | not run: {r['error']} |" + " |" * 8)
            continue
        diff = "reference" if r["max_abs_diff"] is None else f"{r['max_abs_diff']:.3f}"
        if not r.get("finite", True):
            diff += " (output NaN)"
        lines.append(f"| {r['runtime']} | {r['precision']} | {r['import_s']:.2f} | {r['load_s']:.2f} | "
                     f"{r['first_call_s']:.3f} | {r['codes_per_s_b1']:.1f} | {r['codes_per_s_b64']:.1f} | "
                     f"{r['peak_rss_mb']} | {r['installed_mb']} | {diff} | {r['zxing']:.1%} |")
    return rows, "\n".join(lines) + "\n"


def run_child(spec: str) -> None:
    runtime, precision, folder, repeats = spec.split(":")
    row = child(runtime, precision, Path(folder), int(repeats))
    sr = row.pop("sr")
    if (runtime, precision) == ("tensorflow", "fp32"):
        np.save(Path(folder) / "sr.npy", sr)
    print(json.dumps(row))
