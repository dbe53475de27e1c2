"""``qrsr evaluate`` as a user runs it: a real subprocess, tables or JSON, one-line errors with exit 2."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qrsr_helpers.models.registry import export_path, weights_path


def qrsr(*args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("qrsr")  # the installed console script
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "qrsr_helpers.cli"]
    return subprocess.run(command + list(args), capture_output=True, text=True, timeout=300)


def test_tables_compare_with_bicubic_on_the_same_codes():
    done = qrsr("evaluate", "--upscaler", "nearest", "--n", "24", "--degradation", "clean", "--seed", "4")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("24 codes, degradation=clean, seed=4; HR itself decodes: zxing 100.0%")
    assert "decode_rate_zxing" in out and "decode_rate_opencv" in out and "per QR version:" in out
    rows = [line.split()[0] for line in out.split("per QR version:")[0].splitlines()[4:] if line.strip()]
    assert rows == ["nearest", "bicubic"]  # bicubic is always added as the baseline


def test_json_has_every_key():
    done = qrsr("evaluate", "--upscaler", "bilinear", "--n", "20", "--degradation", "realistic", "--seed", "8",
                "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["n"], report["seed"], report["degradation"]) == (20, 8, "realistic")
    assert set(report["hr_decode_rate"]) == {"zxing", "opencv"}
    assert [row["upscaler"] for row in report["upscalers"]] == ["bilinear", "bicubic"]
    rates = {f"{kind}_rate_{reader}" for kind in ("decode", "misread") for reader in ("zxing", "opencv", "cascade")}
    for row in report["upscalers"]:  # the product's cascade and the misreads are what scripts compare on
        assert rates | {"psnr", "ssim", "n", "per_version"} <= set(row), sorted(row)
        assert all(0 <= row[key] <= 1 for key in rates) and row["decode_rate_cascade"] >= row["decode_rate_zxing"]
        assert all(rates <= set(version) for version in row["per_version"])
        assert 0 <= row["decode_rate_zxing"] <= 1 and row["psnr"] > 0 and row["n"] == 20
        assert sum(version["n"] for version in row["per_version"]) == 20
        assert [v["version"] for v in row["per_version"]] == sorted(v["version"] for v in row["per_version"])


@pytest.mark.parametrize("args, message", [
    (("--n", "0"), "qrsr evaluate: error: --n 0: need at least one code"),
    (("--upscaler", "magic"), "qrsr evaluate: error: unknown upscaler 'magic'"),
    (("--upscaler", "missing.weights.h5"), "qrsr evaluate: error: --upscaler missing.weights.h5: no such file"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    done = qrsr("evaluate", *args)
    assert done.returncode == 2
    assert done.stderr.startswith(message) and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stdout == ""


def test_evaluate_with_a_stale_export_asked_for_is_one_line(tmp_path):
    own = tmp_path / "mine.weights.h5"
    shutil.copy(weights_path("srresnet"), own)
    shutil.copy(weights_path("srresnet").with_name("srresnet_16x64.run.json"), tmp_path / "mine.run.json")
    shutil.copy(export_path(weights_path("srgan")), export_path(own))  # the SRGAN's export: foreign to these weights
    result = qrsr("evaluate", "--upscaler", str(own), "--n", "2", "--backend", "onnx")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "other weights" in errors[0]
