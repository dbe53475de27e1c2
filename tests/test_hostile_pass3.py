"""The third hostile pass (issue 20): a sharp code is never made worse, an export is tied to its weights, a
broken fast path falls back with a reason, settings are checked once, every code in an image is accounted for,
and what the command prints is safe for a terminal. CLI cases run ``qrsr`` as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno

from qrsr_helpers.decode import decode
from qrsr_helpers.errors import BadFile, InvalidArgument, printable
from qrsr_helpers.io import read_image, write_image
from qrsr_helpers.models import registry
from qrsr_helpers.models.registry import export_path, load_runtime, weights_path

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
for variable in ("QRSR_BACKEND", "QRSR_PRECISION"):
    ENV.pop(variable, None)
OTHER_EXPORT = export_path(weights_path("srgan"))  # the SRGAN's export: foreign to the SRResNet's weights


def qrsr(*args, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qrsr_helpers.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env={**ENV, **(env or {})})


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if ": error: " in line]


def code(text: str, module_px: float, border: int = 4) -> np.ndarray:
    """A code of ``text`` at ``module_px`` pixels per module (area-resampled from a sharp rendering)."""
    matrix = np.array(segno.make_qr(text, error="m").matrix, np.uint8)
    sharp = np.kron(np.pad((1 - matrix) * 255, border, constant_values=255), np.ones((16, 16))).astype(np.uint8)
    side = int(round(sharp.shape[0] / 16 * module_px))
    return cv2.resize(sharp, (side, side), interpolation=cv2.INTER_AREA)


# --- enhancing never makes a code worse ------------------------------------------------------------------


@pytest.mark.parametrize("module_px", [1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 8.0, 10.0])
def test_a_code_that_reads_before_enhancing_reads_after_it(tmp_path, module_px):
    from qrsr_helpers.photo import SHARP_MODULE_PX, enhance_file

    lost = []
    for i in range(4):
        payload = f"https://example.org/{int(module_px * 10)}/{i}"
        image = np.pad(code(payload, module_px), 12, constant_values=255)
        write_image(tmp_path / f"{i}.png", image)
        result = enhance_file(tmp_path / f"{i}.png", tmp_path / f"{i}.x4.png")
        after = decode(read_image(result.output), "cascade").texts
        if payload in decode(image, "zxing").texts and payload not in after:
            lost.append(i)
        if module_px >= SHARP_MODULE_PX + 0.5:
            assert any("already" in note and "px per module" in note for note in result.notes), result.notes
    assert not lost, f"{module_px} px/module: codes {lost} read before enhancing and not after"


@pytest.mark.parametrize("options", [["--decode"], ["--weights", "srgan"], ["--ensemble"], ["--whole"],
                                     ["--backend", "keras", "--decode"]])
def test_no_way_of_enhancing_loses_a_sharp_code(tmp_path, options):
    folder = tmp_path / "sharp"
    folder.mkdir()
    for i in range(3):  # 4-5 px per module: where the generator damaged finder patterns (issue 20)
        write_image(folder / f"{i}.png", np.pad(code(f"https://example.org/sharp/{i}", 4.0 + i / 2), 12,
                                                constant_values=255))
    result = qrsr("enhance", folder, *options)
    assert result.returncode == 0, result.stderr[-2000:]
    if "--whole" not in options:  # asked for the whole image: nothing is located, so nothing is measured
        assert result.stdout.count("px per module and reads as it is") == 3, result.stdout
    for i in range(3):
        assert f"https://example.org/sharp/{i}" in decode(read_image(folder / f"{i}.x4.png"), "cascade").texts


# --- every code in an image --------------------------------------------------------------------------


def test_two_codes_in_one_image_are_both_enhanced_and_reported(tmp_path):
    canvas = np.full((160, 420), 255, np.uint8)
    first, second = code("https://a.example/one", 3.0), code("https://b.example/two", 1.5)
    canvas[10:10 + first.shape[0], 10:10 + first.shape[1]] = first
    canvas[20:20 + second.shape[0], 300:300 + second.shape[1]] = second
    write_image(tmp_path / "two.png", canvas)
    result = qrsr("enhance", tmp_path / "two.png", "--decode")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "2 codes found" in result.stdout, result.stdout
    enhanced = decode(read_image(tmp_path / "two.x4.png"), "cascade").texts
    assert {"https://a.example/one", "https://b.example/two"} <= set(enhanced)


def test_a_code_filling_the_image_is_not_called_missing(tmp_path):
    from qrsr_helpers.photo import enhance_file

    write_image(tmp_path / "big.png", code("https://example.org/big", 2.0, border=1))
    text = enhance_file(tmp_path / "big.png", tmp_path / "big.x4.png").describe()
    assert "no code found" not in text and "covering most of the image" in text, text


# --- an export is tied to its weights ----------------------------------------------------------------


@pytest.fixture
def own_bundle(tmp_path, monkeypatch):
    """A copy of the bundled SRResNet treated as bundled (``auto`` takes its export), to break at will."""
    folder = tmp_path / "weights"
    folder.mkdir()
    for source in (weights_path("srresnet"), export_path(weights_path("srresnet")),
                   weights_path("srresnet").with_name("srresnet_16x64.run.json")):
        shutil.copy(source, folder / source.name)
    monkeypatch.setattr(registry, "WEIGHTS_DIR", folder)
    return folder / weights_path("srresnet").name


def _onnx_model(path: Path, body: str, weights: Path | None) -> Path:
    """A tiny ONNX model NHWC -> NHWC: ``identity`` or ``nan`` (x4 nearest, times NaN), stamped with the
    digest of ``weights`` when given."""
    import onnx
    from onnx import TensorProto, helper

    from qrsr_helpers.models.exported import WEIGHTS_DIGEST_KEY, weights_digest

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, None, None, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, None, None, 3])
    if body == "identity":
        nodes, inits = [helper.make_node("Identity", ["x"], ["y"])], []
    else:
        scales = helper.make_tensor("scales", TensorProto.FLOAT, [4], [1, 4, 4, 1])
        nan = helper.make_tensor("nan", TensorProto.FLOAT, [], [float("nan")])
        nodes = [helper.make_node("Resize", ["x", "", "scales"], ["big"], mode="nearest"),
                 helper.make_node("Mul", ["big", "nan"], ["y"])]
        inits = [scales, nan]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    if weights is not None:
        model.metadata_props.add(key=WEIGHTS_DIGEST_KEY, value=weights_digest(weights))
    onnx.save(model, str(path))
    return path


def test_a_stale_or_broken_export_is_never_run_silently(own_bundle):
    export = export_path(own_bundle)
    generator, note = load_runtime(own_bundle)
    assert getattr(generator, "precision", None) and note == ""  # the stamped export is used
    cases = {"stale": lambda: shutil.copy(OTHER_EXPORT, export),
             "unstamped": lambda: _onnx_model(export, "identity", None),
             "identity": lambda: _onnx_model(export, "identity", own_bundle),
             "nan": lambda: _onnx_model(export, "nan", own_bundle),
             "corrupt": lambda: export.write_bytes(b"\x08\x07 not a model")}
    expected = {"stale": "other weights", "unstamped": "records no weights digest", "identity": "not x4",
                "nan": "NaN", "corrupt": "not a readable ONNX model"}
    for case, make in cases.items():
        make()
        os.utime(export, ns=(export.stat().st_atime_ns, export.stat().st_mtime_ns + 1_000_000_000))
        generator, note = load_runtime(own_bundle)
        assert not hasattr(generator, "precision"), f"{case}: the export ran"
        assert "running the Keras model" in note and expected[case] in note, (case, note)
        with pytest.raises(BadFile, match=expected[case]):
            load_runtime(own_bundle, backend="onnx")
        assert "Exception from" not in note


def test_evaluate_with_a_stale_export_asked_for_is_one_line(tmp_path):
    own = tmp_path / "mine.weights.h5"
    shutil.copy(weights_path("srresnet"), own)
    shutil.copy(weights_path("srresnet").with_name("srresnet_16x64.run.json"), tmp_path / "mine.run.json")
    shutil.copy(OTHER_EXPORT, export_path(own))
    result = qrsr("evaluate", "--upscaler", own, "--n", "2", "--backend", "onnx")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(error_lines(result)) == 1 and "other weights" in error_lines(result)[0]


# --- a broken OpenVINO install ----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_broken_openvino_falls_back_to_keras_in_every_command(tmp_path):
    write_image(tmp_path / "code.png", np.pad(code("https://example.org/ov", 1.6), 10, constant_values=255))
    script = textwrap.dedent("""
        import sys
        class Broken:
            def find_spec(self, name, path=None, target=None):
                if name == "openvino" or name.startswith("openvino."):
                    raise ImportError("libopenvino.so.2540: cannot open shared object file")
        sys.meta_path.insert(0, Broken())
        from qrsr_helpers.cli import main
        print("exit", main(sys.argv[1:]))
    """)
    for command in (["enhance", tmp_path / "code.png", "--decode"], ["evaluate", "--upscaler", "srresnet", "--n", "2"],
                    ["demo", "--n", "2", "--out", tmp_path / "demo.png"]):
        result = subprocess.run([sys.executable, "-c", script, *map(str, command)], capture_output=True, text=True,
                                timeout=300, env=ENV)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
        assert "exit 0" in result.stdout, result.stdout[-2000:]
        notes = [line for line in result.stderr.splitlines() if ": note: " in line]
        assert len(notes) == 1 and "OpenVINO failed" in notes[0] and "Keras" in notes[0], result.stderr[-2000:]


# --- settings are checked once, before any work -----------------------------------------------------------


@pytest.mark.parametrize("variable", ["QRSR_PRECISION", "QRSR_BACKEND"])
def test_a_bad_setting_is_one_line_before_any_file(tmp_path, variable):
    for i in range(5):
        write_image(tmp_path / f"{i}.png", np.pad(code(f"https://example.org/{i}", 1.6), 10, constant_values=255))
    result = qrsr("enhance", tmp_path, env={variable: "bogus"})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert len(error_lines(result)) == 1 and variable in error_lines(result)[0], result.stderr
    assert not list(tmp_path.glob("*.x4.png"))


def test_library_settings_are_checked_whatever_the_backend():
    from qrsr_helpers import enhance, load_pretrained

    with pytest.raises(InvalidArgument, match="'bogus'"):
        load_pretrained(precision="bogus")
    with pytest.raises(InvalidArgument, match="'bogus'"):
        load_pretrained(backend="bogus")
    image = code("https://example.org/by-name", 1.6)
    assert enhance(image, generator="srgan").shape == (image.shape[0] * 4, image.shape[1] * 4)


# --- what is printed is what is meant ----------------------------------------------------------------------


def test_names_are_printed_safely():
    assert printable("a\x1b[31mb\nc\u202ed") == "a\\x1b[31mb\\nc\\u202ed"
    assert printable(os.fsdecode(b"bad\xff.png")) == "bad\\xff.png"
    assert printable("Grüße 東京") == "Grüße 東京"


def test_terminal_escapes_in_a_file_name_never_reach_the_terminal(tmp_path):
    name = tmp_path / "evil\x1b]0;pwned\x07.png"
    write_image(name, np.pad(code("https://example.org/esc", 1.6), 10, constant_values=255))
    missing = tmp_path / "gone\x1b[2J.png"
    result = qrsr("enhance", name, missing, "--decode")
    assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stdout + result.stderr
    assert "evil\\x1b]0;pwned\\x07.png" in result.stdout and "gone\\x1b[2J.png" in result.stderr


def test_the_same_output_name_from_two_folders_names_the_real_fix(tmp_path):
    for folder in ("d1", "d2"):
        (tmp_path / folder).mkdir()
        write_image(tmp_path / folder / "a.png", np.pad(code("https://example.org/a", 1.6), 10, constant_values=255))
    result = qrsr("enhance", tmp_path / "d1" / "a.png", tmp_path / "d2" / "a.png", "-o", tmp_path / "out")
    assert result.returncode == 2
    assert any("separate -o folders" in line for line in error_lines(result)), result.stderr


@pytest.mark.parametrize("payload", ["Preis: 5 £", "ÄÖÜ", "Google モバイル", "Grüße"])
def test_one_code_prints_one_payload_the_right_one(tmp_path, payload):
    matrix = np.array(segno.make_qr(payload, error="m").matrix, np.uint8)
    write_image(tmp_path / "code.png", np.kron(np.pad((1 - matrix) * 255, 4, constant_values=255),
                                               np.ones((2, 2))).astype(np.uint8))
    result = qrsr("enhance", tmp_path / "code.png", "--decode")
    assert result.returncode == 0, result.stderr[-2000:]
    printed = [line for line in result.stdout.splitlines()[1:] if not line.strip().startswith("note:")]
    assert printed and all(f'"{payload}"' in line for line in printed), result.stdout
    assert all(line.count('"') == 2 for line in printed if "nothing read" not in line), result.stdout


def test_a_multi_page_tiff_says_which_page_was_enhanced(tmp_path):
    from PIL import Image

    pages = [Image.fromarray(np.pad(code(f"https://example.org/page/{i}", 1.6), 10, constant_values=255))
             for i in range(3)]
    pages[0].save(tmp_path / "pages.tif", save_all=True, append_images=pages[1:])
    result = qrsr("enhance", tmp_path / "pages.tif")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "page 1 of 3" in result.stdout, result.stdout
