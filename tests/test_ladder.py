"""The decode ladder (issue 22): it climbs only when the first read fails (not with ``--fast``), names the rung,
keeps exit codes, refuses a symbol too small for the region; ``LADDER`` holds only the rungs the benchmark kept.
In-process with a nearest-neighbour x4 "generator" (milliseconds) and planted rungs whose reads are known."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno

from qrsr_helpers import ladder as ladder_module
from qrsr_helpers.cli import main
from qrsr_helpers.decode import DecodeResult, decode_all
from qrsr_helpers.inference import LADDER_MAX_PIXELS, Enhancer
from qrsr_helpers.io import write_image
from qrsr_helpers.ladder import LADDER, PLAUSIBLE_SHARE, Attempt, climb, ensemble, plausible_reads, rescaled
from qrsr_helpers.payload import payload_read

ROOT = Path(__file__).resolve().parents[1]


def planted(name: str, text: str | None, calls: list[str]):
    """A rung named ``name`` that reads ``text`` (None: nothing) and records that it ran."""
    def rung(attempt: Attempt):
        calls.append(name)
        reads = (payload_read(text.encode()),) if text is not None else ()
        return None, {"zxing": DecodeResult("zxing", reads)}

    rung.__name__ = name
    return rung


def code_image(text: str, module_px: int = 3) -> np.ndarray:
    matrix = np.array(segno.make_qr(text, error="m").matrix, np.uint8)
    gray = np.kron(np.pad((1 - matrix) * 255, 4, constant_values=255), np.ones((module_px, module_px)))
    return np.pad(gray.astype(np.uint8), 10, constant_values=255)


def blank(tmp_path: Path, size: int = 60) -> Path:
    """An image nothing reads: a grey square with a few blotches (no code)."""
    image = np.full((size, size), 200, np.uint8)
    image[10:20, 30:45] = 40
    write_image(tmp_path / "blank.png", image)
    return tmp_path / "blank.png"


def test_the_ladder_runs_only_when_the_first_read_fails(tmp_path, nearest_x4):
    calls: list[str] = []
    write_image(tmp_path / "code.png", code_image("https://example.org/first"))
    enhancer = Enhancer(nearest_x4, ladder=(planted("rung", "never printed", calls),))
    result = enhancer.enhance_file(tmp_path / "code.png", tmp_path / "out.png", decode=True)
    assert calls == [] and result.read_by == "" and result.payloads == ["https://example.org/first"]
    assert "read by" not in result.describe()

    enhancer = Enhancer(nearest_x4, ladder=(planted("first", None, calls), planted("second", "hello", calls),
                                            planted("third", "not reached", calls)))
    result = enhancer.enhance_file(blank(tmp_path), tmp_path / "out.png", decode=True)
    assert calls == ["first", "second"] and result.read_by == "second" and result.payloads == ["hello"]
    lines = result.describe().splitlines()
    assert '  second    "hello" (zxing)' in lines and "  ladder    nothing read (first)" in lines
    assert lines[-1] == "  read by: second (the first read failed)"


def test_no_ladder_without_decode_for_fast_or_for_a_large_region(tmp_path, nearest_x4):
    calls: list[str] = []
    rung = planted("rung", "x", calls)
    climbing = Enhancer(nearest_x4, ladder=(rung,))
    climbing.enhance_file(blank(tmp_path), tmp_path / "out.png", decode=False)
    result = Enhancer(nearest_x4, ladder=()).enhance_file(blank(tmp_path), tmp_path / "out.png", decode=True)
    assert calls == [] and not result.payloads and "read by" not in result.describe()
    side = int(LADDER_MAX_PIXELS ** 0.5) + 8  # no code located: the whole image is the region, over the limit
    result = climbing.enhance_file(blank(tmp_path, side), tmp_path / "out.png", decode=True)
    assert calls == [] and not result.payloads


def test_cli_climbs_unless_fast_names_the_rung_and_exit_codes_stay(tmp_path, monkeypatch, capsys, tiny_weights):
    calls: list[str] = []
    monkeypatch.setattr(ladder_module, "LADDER", (planted("planted", "hello", calls),))
    source = blank(tmp_path)
    weights = ["--weights", str(tiny_weights)]
    assert main(["enhance", str(source), "-o", str(tmp_path / "b.png"), "--decode", "--fast", *weights]) == 1
    out = capsys.readouterr().out
    assert calls == [] and "hello" not in out and "read by" not in out
    assert main(["enhance", str(source), "-o", str(tmp_path / "a.png"), "--decode", *weights]) == 0  # default: climbs
    out = capsys.readouterr().out
    assert calls == ["planted"] and '"hello"' in out and "read by: planted" in out
    assert main(["enhance", str(tmp_path / "missing.png"), "--decode", *weights]) == 2


def test_every_candidate_rung_runs_on_a_small_region(nearest_x4, monkeypatch):
    crop = np.repeat(code_image("https://example.org/r", 1)[..., None], 3, axis=2)
    sr = np.repeat(np.repeat(crop, 4, axis=0), 4, axis=1)
    attempt = Attempt(crop, sr, Enhancer(nearest_x4))
    for name, rung in _benchmark(monkeypatch)._rungs().items():
        image, decoded = rung(attempt)
        assert rung.__name__ == name and (image is None or image.shape == sr.shape), name
        assert all(isinstance(result, DecodeResult) for result in decoded.values()), name
    assert climb(attempt, (ensemble,))[0] == "ensemble"  # the ensemble of nearest x4 reads the code


@pytest.mark.parametrize("side, read", [(150, False), (300, True)])
def test_a_rung_reads_only_a_symbol_that_fills_a_plausible_share_of_the_region(side, read):
    """A rung's x4 image of a 400-px region: a symbol 64 px wide (16 %, its 21 modules of the 49 drawn) is what the
    misreads looked like (a small symbol drawn from texture) and is refused; at 129 px (32 %) it is read."""
    code = code_image("12345", 1)
    image = np.full((400, 400), 255, np.uint8)
    image[90:90 + side, 90:90 + side] = cv2.resize(code, (side, side), interpolation=cv2.INTER_NEAREST)
    assert decode_all(image, enhanced=True)["zxing"].texts == ("12345",)  # every decoder alone reads it
    assert ("12345" in plausible_reads(image)["zxing"].texts) is read
    assert any(r.ok for r in plausible_reads(image).values()) is read


def test_a_rung_reads_with_every_decoder_and_judges_plausibility_by_height_and_width():
    """An RGB x4 image: the cascade too (it is only for enhanced images), and the share is of the region's sides,
    not of its three colour channels."""
    code = cv2.resize(code_image("12345", 1), (150, 150), interpolation=cv2.INTER_NEAREST)
    image = np.full((400, 400, 3), 255, np.uint8)
    image[90:240, 90:240] = code[..., None]
    reads = plausible_reads(image)
    assert set(reads) == {"zxing", "opencv", "cascade"} and not any(result.ok for result in reads.values())


def test_climb_keeps_the_image_of_the_rung_that_read_and_names_none_when_none_did():
    attempt = Attempt(None, np.zeros((8, 8), np.uint8), None)
    own = np.ones((8, 8), np.uint8)

    def reader(attempt):
        return own, {"zxing": DecodeResult("zxing", (payload_read(b"x"),))}

    def silent(attempt):
        return None, {"zxing": DecodeResult("zxing")}

    assert climb(attempt, (silent, reader))[:2] == ("reader", own)
    name, image, tried = climb(attempt, (silent,))
    assert name == "" and image is attempt.sr and list(tried) == ["silent"]


def _benchmark(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # its helpers (machine.py, real_photos.py) live there
    spec = importlib.util.spec_from_file_location("decode_ladder", ROOT / "benchmarks" / "decode_ladder.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Recording:
    """An enhancer that records what each rung asks of it (nearest-neighbour x4)."""

    def __init__(self):
        self.asked = []

    def enhance(self, image, ensemble=None):
        self.asked.append((image, ensemble))
        return np.kron(image, np.ones((4, 4, 1), np.uint8))


@pytest.mark.parametrize("factor, shape, kernel, ensembled", [
    (None, (32, 48), None, True),  # the ensemble rung: the 8-fold ensemble of the region as it is
    (1.25, (40, 60), cv2.INTER_CUBIC, False),  # rescaled: height and width each x1.25, interpolated
    (0.75, (24, 36), cv2.INTER_AREA, False),  # ... or area-averaged when smaller
])
def test_each_rung_asks_the_enhancer_for_its_own_look(factor, shape, kernel, ensembled):
    crop = np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    enhancer = Recording()
    rung = ensemble if factor is None else rescaled(factor)
    rung(Attempt(crop, enhancer.enhance(crop), enhancer))
    image, asked_ensemble = enhancer.asked[-1]
    expected = crop if kernel is None else cv2.resize(crop, shape[::-1], interpolation=kernel)
    assert image.shape[:2] == shape and np.array_equal(image, expected) and asked_ensemble is ensembled


def test_a_rung_that_misreads_is_never_kept(monkeypatch):
    tries = [{"cheap": {"read": True, "misread": False, "any": True, "s": 0.01},
              "liar": {"read": True, "misread": False, "any": True, "s": 0.001},
              "costly": {"read": False, "misread": False, "any": False, "s": 1.0}},
             {"cheap": {"read": False, "misread": False, "any": False, "s": 0.01},
              "liar": {"read": False, "misread": True, "any": True, "s": 0.001},
              "costly": {"read": True, "misread": False, "any": True, "s": 1.0}},
             {"cheap": {"read": False, "misread": False, "any": False, "s": 0.01},
              "liar": {"read": False, "misread": False, "any": False, "s": 0.001},
              "costly": {"read": False, "misread": False, "any": False, "s": 1.0}}]
    kept, why = _benchmark(monkeypatch).choose({"set": [{"rungs": t} for t in tries]})
    assert kept == ["cheap", "costly"] and why["liar"].startswith("dropped: 1 misread")
    tries[0]["costly"] |= {"read": True, "any": True}  # now it reads all cheap does: cheap is redundant
    assert _benchmark(monkeypatch).choose({"set": [{"rungs": t} for t in tries]})[0] == ["costly"]


def test_the_ladder_is_the_one_the_benchmark_kept(monkeypatch):
    measured = json.loads((ROOT / "benchmarks" / "results" / "decode_ladder.json").read_text())
    assert [rung.__name__ for rung in LADDER] == measured["kept"]
    assert all(rung.__name__ in _benchmark(monkeypatch)._rungs() for rung in LADDER)


@pytest.mark.parametrize("side, read", [(120, False), (400, True)])
def test_the_first_read_of_a_located_code_refuses_a_symbol_too_small_for_it(tmp_path, nearest_x4, monkeypatch,
                                                                          side, read):
    """The misread of ``benchmarks/results/shrunk_finetune``: in the 172-px x4 region of a version-2 code it could not
    resolve, the generator drew a 40-px version-1 symbol that read "0392". A region located by contrast is the code's
    box, so its first read, like a rung's, counts a symbol only if it spans ``PLAUSIBLE_SHARE`` of the region."""
    rng = np.random.default_rng(0)
    image = np.full((140, 140), 190, np.uint8)
    image[30:110, 30:110] = np.where(rng.random((80, 80)) < 0.5, 30, 230)  # code-like texture nothing reads
    write_image(tmp_path / "code.png", image)
    enhancer = Enhancer(nearest_x4, ladder=())
    real_enhance = enhancer.enhance

    def planted(crop, ensemble=None):  # the generator's x4 with a small valid symbol drawn into it
        sr = real_enhance(crop, ensemble)
        symbol = cv2.resize(code_image("0392"), (side, side), interpolation=cv2.INTER_AREA)  # 21 of 49 px: the symbol
        top = (sr.shape[0] - side) // 2
        sr[top:top + side, top:top + side] = symbol[..., None] if sr.ndim == 3 else symbol
        return sr

    monkeypatch.setattr(enhancer, "enhance", planted)
    result = enhancer.enhance_file(tmp_path / "code.png", tmp_path / "out.png", decode=True)
    region_side = 4 * min(result.box[2] - result.box[0], result.box[3] - result.box[1])
    assert result.found_by == "contrast" and 51 < PLAUSIBLE_SHARE * region_side < 171  # symbol: 21/49 of side
    assert ("0392" in result.payloads) is read
    whole = enhancer.enhance_file(tmp_path / "code.png", tmp_path / "whole.png", decode=True, whole=True)
    assert "0392" in whole.payloads  # the whole image asked for: no box to judge a symbol by
