"""Decoding with erasures (issue 22): the symbol layout is the standard's for every version, clean symbols of every
mode decode exactly, greyed modules zxing cannot correct are read, the LR fit repairs a wrong guess, and nothing
that is not a code comes out as a payload."""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest
import reedsolo
import segno
import zxingcpp
from segno import consts

from qrsr_helpers import erasures as e
from qrsr_helpers.decode import DecodeResult
from qrsr_helpers.ladder import Attempt
from qrsr_helpers.ladder import erasures as erasure_rung


def symbol(text: str, version: int, level: str, mask: int, **options) -> np.ndarray:
    return np.array(segno.make(text, version=version, error=level, mask=mask, boost_error=False, micro=False,
                               **options).matrix, np.uint8)


def drawn(matrix: np.ndarray, module_px: int, levels=(30, 225), quiet: int = 4) -> np.ndarray:
    """``matrix`` (1 dark) drawn at ``module_px`` px per module with a light quiet zone."""
    gray = np.where(np.pad(matrix, quiet), levels[0], levels[1]).astype(np.float32)
    return np.kron(gray, np.ones((module_px, module_px))).astype(np.uint8)


def corners(n: int, module_px: int, quiet: int = 4) -> np.ndarray:
    lo, hi = quiet * module_px, (quiet + n) * module_px
    return np.float32([[lo, lo], [hi, lo], [hi, hi], [lo, hi]])


@pytest.mark.parametrize("version", range(1, 41))
def test_the_layout_holds_every_codeword_of_the_standard(version):
    """Data modules // 8 = the standard's codewords, for every version; each level's blocks interleave them all."""
    total = sum(g.num_total * g.num_blocks for g in consts.ECC[version][0])
    assert len(e.codeword_modules(version)) == total
    assert (17 + 4 * version) ** 2 - e.function_modules(version).sum() - total * 8 in (0, 3, 4, 7)  # remainder bits
    for level in "LMQH":
        positions = np.concatenate([p for p, _ in e.blocks(version, level)])
        assert sorted(positions) == list(range(total))


@pytest.mark.parametrize("text, version, level, mask, options", [
    ("0123456789012345", 1, "L", 0, {}),  # numeric
    ("HTTP://EXAMPLE.ORG/A1", 5, "Q", 3, {}),  # alphanumeric
    ("https://example.org/päyload?x=1", 7, "M", 5, {"encoding": "utf-8", "eci": True}),  # byte with ECI 26
    ("漢字のテスト", 2, "H", 6, {}),  # Kanji mode
    ("mixed 12345678901234567890 MODE", 12, "L", 2, {}),  # several segments; a version with version information
])
def test_a_clean_symbol_decodes_exactly(text, version, level, mask, options):
    matrix = symbol(text, version, level, mask, **options)
    image = drawn(matrix, 5)
    n = len(matrix)
    to_image = e.module_grid(image.astype(np.float32), corners(n, 5), version)
    known, used = e.known_modules(version, level, mask), e.function_modules(version)
    assert (known[used] == matrix[used]).all()
    values = e.sampled_values(image.astype(np.float32), to_image, known, used)
    assert ((values > 0) == (matrix == 1)).all()
    assert e.decoded(values, version, level, mask).text == text


def test_module_values_are_scaled_by_the_function_modules_dark_and_light():
    """A module as dark as the finders is 1, as light as the quiet zone -1, halfway 0 (a guess), a quarter of the way
    from dark 0.5; darker than dark or lighter than light is clipped."""
    version, level, mask = 2, "L", 0
    matrix = symbol("scaled", version, level, mask)
    known, used = e.known_modules(version, level, mask), e.function_modules(version)
    levels = np.where(matrix == 1, 30.0, 225.0)
    data = [tuple(p) for p in np.argwhere(~used)[:4]]
    for where, level_ in zip(data, (127.5, 78.75, 0.0, 255.0)):
        levels[where] = level_
    image = np.kron(np.pad(levels, 4, constant_values=225.0), np.ones((5, 5))).astype(np.float32)
    values = e.sampled_values(image, e.module_grid(image, corners(len(matrix), 5), version), known, used)
    assert [round(float(values[where]), 3) for where in data] == [0.0, 0.5, 1.0, -1.0]
    assert np.abs(values[used]).min() == 1.0


def test_the_grid_follows_a_curved_label_that_four_corners_miss():
    """A version 10 on a cylinder (rows sag by up to 1.6 modules toward the edges): the corners' homography alone puts
    two fifths of the modules wrong; refined on the finder and alignment patterns, none (an affine refinement leaves
    15 %), and it decodes."""
    version, level, mask = 10, "M", 2
    matrix = symbol("a curved label: the grid bends", version, level, mask)
    n, px, quiet = len(matrix), 6, 4
    flat = drawn(matrix, px).astype(np.float32)
    rows, columns = np.mgrid[0:flat.shape[0], 0:flat.shape[1]].astype(np.float32)
    sag = lambda x: 1.6 * px * ((x - flat.shape[1] / 2) / (flat.shape[1] / 2)) ** 2
    curved = cv2.remap(flat, columns, rows - sag(columns), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    outer = corners(n, px, quiet)
    outer[:, 1] += sag(outer[:, 0])
    known, used = e.known_modules(version, level, mask), e.function_modules(version)
    wrong = {}
    for rounds in (0, 2):
        values = e.sampled_values(curved, e.module_grid(curved, outer, version, rounds=rounds), known, used)
        wrong[rounds] = ((values > 0) != (matrix == 1))[~used].mean()
    assert wrong[0] > 0.2 and wrong[2] == 0
    assert e.decoded(values, version, level, mask).text == "a curved label: the grid bends"


def greyed(matrix: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Grey levels of ``matrix`` with ``count`` data modules a grey that hardly leans either way (a guess)."""
    rng = np.random.default_rng(seed)
    levels = np.where(matrix == 1, 30.0, 225.0)
    data = np.flatnonzero(~e.function_modules((len(matrix) - 17) // 4).ravel())
    chosen = rng.choice(data, count, replace=False)
    levels.ravel()[chosen] = np.where(matrix.ravel()[chosen] == 1, 131.0, 124.0)  # 3 grey levels off the middle
    return levels


def test_erasures_read_greyed_modules_that_zxing_loses_at_the_checksum():
    """A version 5-Q symbol with 50 of its data modules a near-middle grey: zxing binarizes each one way or the other
    and fails at Reed-Solomon; erased as the least certain, they are corrected."""
    text = "HTTP://EXAMPLE.ORG/ERASURES/READ"
    matrix = symbol(text, 5, "Q", 4)
    image = np.kron(np.pad(greyed(matrix, 50, seed=2), 4, constant_values=225), np.ones((5, 5))).astype(np.uint8)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode, return_errors=True)
    assert found and not any(b.valid for b in found) and "Checksum" in str(found[0].error)
    assert [read.text for read in e.read_with_erasures(image)] == [text]
    assert e.read_with_erasures(image, min_side=image.shape[0]) == ()  # a symbol smaller than asked for is refused


def shrunk(matrix: np.ndarray, version: int, factor: float):
    """``matrix`` drawn at 5 px per module, shrunk by area by ``factor``, and the map from modules to those LR pixels
    (pixel centres aligned, as ``module_estimates`` maps them)."""
    hr = drawn(matrix, 5)
    to_hr = e.module_grid(hr.astype(np.float32), corners(len(matrix), 5), version)
    lr = cv2.resize(hr, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    return lr, lambda u, v: (to_hr(u, v) + 0.5) * factor - 0.5


def test_the_lr_fit_repairs_a_wrong_guess():
    """LR pixels at 1.25 px per module (a symbol drawn at 5 px, shrunk by area) and a start that has 15 % of the data
    modules wrong: the fit to the pixels gets most of them right again."""
    version, level, mask = 3, "M", 1
    matrix = symbol("lr fit", version, level, mask)
    n, known, used = len(matrix), e.known_modules(version, level, mask), e.function_modules(version)
    lr, to_lr = shrunk(matrix, version, 0.25)
    rng = np.random.default_rng(0)
    truth = np.where(matrix == 1, 1.0, -1.0)
    start = np.where(~used & (rng.random((n, n)) < 0.15), -truth, truth) * 0.3
    fit = e.fitted_values(lr, to_lr, known, used, start)
    wrong = lambda values: ((values > 0) != (matrix == 1))[~used].mean()
    assert wrong(start) > 0.12 and wrong(fit) < 0.02
    assert e.decoded(fit, version, level, mask).text == "lr fit"
    outside = e.fitted_values(lr, lambda u, v: to_lr(u, v) + 1000, known, used, start)
    assert (outside == start).all()  # a grid that misses the LR image leaves the guess as it was


def test_module_estimates_fit_the_lr_pixels_of_a_region_as_it_is_cut():
    """A non-square region whose left quiet zone is one module (the fit's light margin falls outside the LR image), a
    guess with 17 % of the data modules wrong: the fit to the LR pixels (each the area mean of 4 x 4 enhanced pixels,
    pixel centres aligned) gets every one right, and keeps the function modules of this level and mask."""
    version, level, mask = 3, "M", 1
    matrix = symbol("module estimates", version, level, mask)
    n, used = len(matrix), e.function_modules(version)
    wrong_guess = np.where(~used & (np.random.default_rng(5).random((n, n)) < 0.15), 1 - matrix, matrix)
    lay_out = lambda m: np.kron(np.pad(np.where(m == 1, 30, 225), ((4, 3), (1, 10)), constant_values=225),
                                np.ones((5, 5))).astype(np.uint8)
    sr, lr = lay_out(wrong_guess), cv2.resize(lay_out(matrix), None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    assert sr.shape[0] != sr.shape[1]
    enhanced, fitted = e.module_estimates(sr, lr, corners(n, 5) + [5 - 20, 0], version, level, mask)
    wrong = lambda values: ((values > 0) != (matrix == 1))[~used].mean()
    assert wrong(enhanced) > 0.15 and wrong(fitted) == 0  # the LR grid a quarter pixel off: ~1 % wrong
    assert ((fitted[used] > 0) == (matrix[used] == 1)).all() and np.abs(fitted).max() <= 1  # darkness in [-1, 1]


@pytest.mark.parametrize("extra, expected", [
    *[({"Version": "7", "ECLevel": level, "DataMask": 7}, (7, level, 7)) for level in "LMQH"],
    ({"Version": "7", "ECLevel": "q", "DataMask": 7}, None), ({"Version": "7", "ECLevel": "Q", "DataMask": 8}, None),
])
def test_zxing_format_takes_the_four_levels_and_eight_masks(extra, expected):
    class Found:
        pass

    Found.extra = extra
    assert e.zxing_format(Found()) == expected


def test_blocks_that_correct_pin_their_modules_for_the_others(monkeypatch):
    """A version 5-H at 0.8 LR px per module whose guess has 30 % of the first block's data modules wrong and 10 % of
    the rest's: the fit corrects three blocks and not the first; with their modules pinned, the refit corrects it."""
    text, version, level, mask = "HTTP://EXAMPLE.ORG/PINNED", 5, "H", 2
    matrix = symbol(text, version, level, mask)
    n, used = len(matrix), e.function_modules(version)
    rows, columns = np.divmod(e.codeword_modules(version), n)
    first = np.zeros((n, n), bool)
    first[rows[e.blocks(version, level)[0][0]], columns[e.blocks(version, level)[0][0]]] = True
    flip = ~used & (np.random.default_rng(0).random((n, n)) < np.where(first, 0.3, 0.1))
    lr = cv2.resize(drawn(matrix, 8).astype(np.float32), None, fx=0.1, fy=0.1, interpolation=cv2.INTER_AREA)
    lr = lr.round().astype(np.uint8)
    sr = cv2.resize(drawn(np.where(flip, 1 - matrix, matrix), 8), lr.shape[::-1] * np.array(4),
                    interpolation=cv2.INTER_AREA)
    outer = corners(n, 8) * (sr.shape[0] / drawn(matrix, 8).shape[0])
    monkeypatch.setattr(e, "PIN_ROUNDS", 0)
    (_, fitted) = e.module_estimates(sr, lr, outer, version, level, mask)
    assert e.corrected_blocks(e.soft_bits(fitted, version, mask), version, level)[1] == [False, True, True, True]
    assert e.decoded(fitted, version, level, mask) is None
    monkeypatch.setattr(e, "PIN_ROUNDS", 3)
    (_, fitted) = e.module_estimates(sr, lr, outer, version, level, mask)
    assert e.decoded(fitted, version, level, mask).text == text


def test_the_pull_settles_modules_dark_or_light(monkeypatch):
    """With fewer LR pixels than modules (0.8 px per module) the plain fit leaves many modules in between, where its
    start put them; the pull toward dark or light (BINARY_PULL) commits them."""
    version, level, mask = 4, "L", 3
    matrix = symbol("pull toward a side", version, level, mask)
    n, known, used = len(matrix), e.known_modules(version, level, mask), e.function_modules(version)
    lr, to_lr = shrunk(matrix, version, 0.16)
    fit = lambda: e.fitted_values(lr, to_lr, known, used, np.zeros((n, n)))
    pulled = fit()
    monkeypatch.setattr(e, "BINARY_PULL", 0.0)
    plain = fit()
    sure = lambda values: (np.abs(values[~used]) > 0.9).mean()
    assert sure(pulled) > sure(plain) + 0.1


def test_reed_solomon_with_erasures_corrects_twice_as_many_and_rejects_noise():
    codec = e._codec(22)
    word = bytes(codec.encode(bytes(range(11))))  # 33 codewords, 22 check: version 5-H's block
    rng = np.random.default_rng(1)
    wrong = rng.choice(33, 18, replace=False)  # beyond (22 - SLACK) / 2 = 9 errors, within 22 - SLACK erasures
    received = bytearray(word)
    for i in wrong:
        received[i] ^= 0x5A
    reliability = np.ones(33)
    assert e.corrected(bytes(received), reliability, 22) is None  # no reliability: errors, too many
    reliability[wrong] = 0.01
    assert e.corrected(bytes(received), reliability, 22) == word
    noise = [rng.integers(0, 256, 33, dtype=np.uint8).tobytes() for _ in range(300)]
    assert not any(e.corrected(w, rng.random(33), 22) for w in noise)
    assert e.SLACK >= 2


@pytest.mark.parametrize("wrong, marked, read", [
    (9, 0, True),  # 2 x 9 = 18 = 22 - SLACK: within the budget
    (10, 0, False),  # Reed-Solomon alone corrects 11, but 2 x 10 would spend the reserve
    (12, 2, False),  # 2 erased + 10 wrong: 22 > 18, though Reed-Solomon corrects it
    (12, 8, True),  # 8 erased + 4 wrong: 16
])
def test_a_block_is_corrected_only_within_the_reserve(wrong, marked, read):
    word = bytes(e._codec(22).encode(bytes(range(11))))
    positions = np.random.default_rng(wrong + marked).choice(33, wrong, replace=False)
    received = bytes(b ^ 0xA5 if i in positions else b for i, b in enumerate(word))
    reliability = np.ones(33)
    reliability[positions[:marked]] = 0.01
    assert e.corrected(received, reliability, 22) == (word if read else None)


@pytest.mark.parametrize("data, expected", [
    (bytes([0x40, 0x14, 0x10]), "A"),  # byte mode, one byte, terminator
    (bytes([0x60, 0x14, 0x10]), None),  # mode 0110: there is none
])
def test_the_corrected_stream_is_parsed_by_zxing_or_not_read(monkeypatch, data, expected):
    """What the corrected codewords say is zxing-cpp's reading of them drawn back into a clean symbol."""
    ((positions, k),) = e.blocks(1, "L")
    data += bytes([0xEC, 0x11] * k)[:k - len(data)]
    stream = np.zeros(len(positions), np.uint8)
    stream[positions] = np.frombuffer(reedsolo.RSCodec(len(positions) - k).encode(data), np.uint8)
    monkeypatch.setattr(e, "corrected_stream", lambda *args: stream)
    read = e.decoded(np.ones((21, 21)), 1, "L", 5)
    assert (read and read.text) == expected


def test_noise_where_zxing_finds_a_code_is_not_read():
    """Random data modules under real function patterns: zxing locates a symbol and fails; nothing is read."""
    rng = np.random.default_rng(3)
    matrix = symbol("anything", 4, "L", 2)
    noise = np.where(e.function_modules(4), matrix, rng.integers(0, 2, matrix.shape))
    image = drawn(noise, 5)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode, return_errors=True)
    assert found and not found[0].valid
    assert e.read_with_erasures(image, cv2.resize(image, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)) == ()


def test_distorted_symbols_never_raise_and_never_misread():
    """Blur, noise, a blotch, a perspective warp, an LR image that is not the enhancement's source: whatever zxing
    locates, the rung returns the symbol's payload or nothing, and raises nothing (warnings included)."""
    rng = np.random.default_rng(11)
    for _ in range(80):  # 21 of them located and lost at the checksum
        text = "x" * int(rng.integers(1, 8))
        image = drawn(symbol(text, int(rng.integers(1, 11)), "LMQH"[rng.integers(4)], int(rng.integers(8))),
                      int(rng.integers(3, 7)), levels=(0, 255)).astype(np.float32)
        image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 2.5)) + rng.normal(0, rng.uniform(0, 60), image.shape)
        y, x = rng.integers(0, image.shape[0] // 2, 2)
        image[y:y + image.shape[0] // 3, x:x + image.shape[1] // 3] = rng.uniform(0, 255)
        h, w = image.shape
        square = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        warp = cv2.getPerspectiveTransform(square, square + rng.normal(0, 0.05 * w, (4, 2)).astype(np.float32))
        sr = np.clip(cv2.warpPerspective(image, warp, (w, h), borderValue=255), 0, 255).astype(np.uint8)
        lr = cv2.resize(sr, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA) if rng.random() < 0.7 else \
            rng.integers(0, 256, tuple(rng.integers(1, 40, 2)), dtype=np.uint8)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert {read.text for read in e.read_with_erasures(sr, lr)} <= {text}


def test_every_located_symbol_is_tried_and_only_those_lost_at_the_checksum(monkeypatch):
    """zxing lists a phantom lost at its format, a small greyed symbol, a code it reads and the greyed symbol to read
    (in that order with zxing-cpp 3.1): the rung passes over the first three (the small one is under ``min_side``)
    and reads the last; a symbol lost at another stage than the checksum is not estimated at all."""
    text = "HTTP://EXAMPLE.ORG/SECOND"
    greyed_symbol = np.kron(np.pad(greyed(symbol(text, 5, "Q", 4), 50, seed=2), 4, constant_values=225),
                            np.ones((5, 5)))
    small = np.kron(np.pad(greyed(symbol("SMALL", 2, "L", 0), 12, seed=3), 4, constant_values=225), np.ones((4, 4)))
    readable = drawn(symbol("read by zxing", 3, "L", 2), 5)
    image = np.full((300, 900), 225.0)
    image[:readable.shape[0], :readable.shape[1]] = readable
    image[:small.shape[0], 200:200 + small.shape[1]] = small
    image[:greyed_symbol.shape[0], 400:400 + greyed_symbol.shape[1]] = greyed_symbol
    image = image.astype(np.uint8)
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode, return_errors=True)
    assert [b.valid for b in found].count(True) == 1 and ["Checksum" in str(b.error) for b in found].count(True) == 2
    assert [read.text for read in e.read_with_erasures(image, min_side=150)] == [text]

    class LostAtFormat:
        valid, error, extra = False, "FormatError @ QRDecoder.cpp", {"Version": "3", "ECLevel": "M", "DataMask": 1}
        position = None

    monkeypatch.setattr(zxingcpp, "read_barcodes", lambda *args, **kwargs: [LostAtFormat()])
    monkeypatch.setattr(e, "module_estimates", lambda *args: pytest.fail("a symbol lost at its format was estimated"))
    assert e.read_with_erasures(image) == ()


def test_a_grid_without_visible_patterns_is_the_corners_homography():
    """Nothing to refine on (a blank image): the module grid is the four corners' homography, not a failure."""
    outer = corners(29, 5)
    to_image = e.module_grid(np.full((185, 185), 200, np.float32), outer, 3)
    assert np.allclose(np.stack(to_image(np.array([0.0, 29.0]), np.array([0.0, 29.0])), -1), outer[[0, 2]])


def test_the_erasure_rung_reads_from_the_lr_region_a_plausible_symbol_only():
    """The ladder's rung gets the LR region and its enhancement: an enhancement with 15 % of the data modules wrong
    is read from the region's pixels, not from itself; the same symbol in a region over three times its width
    is refused (the ladder's plausibility rule)."""
    text = "HTTP://EXAMPLE.ORG/RUNG"
    matrix = symbol(text, 3, "M", 1)
    used = e.function_modules(3)
    wrong_guess = np.where(~used & (np.random.default_rng(5).random(matrix.shape) < 0.15), 1 - matrix, matrix)
    shrunk = lambda image: cv2.resize(image, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    rung = lambda sr, lr: erasure_rung(Attempt(np.repeat(lr[..., None], 3, axis=2), sr, None))[1]["erasures"]
    sr, lr = drawn(wrong_guess, 8), shrunk(drawn(matrix, 8))
    assert rung(sr, lr) == DecodeResult("erasures", e.read_with_erasures(sr, lr)) and rung(sr, lr).texts == (text,)
    assert rung(sr, shrunk(sr)).texts == ()  # the enhancement alone has too many wrong modules
    sr, lr = (np.pad(image, 300, constant_values=225) for image in (sr, drawn(matrix, 8)))
    assert [read.text for read in e.read_with_erasures(sr, shrunk(lr))] == [text] and rung(sr, shrunk(lr)).texts == ()


@pytest.mark.parametrize("extra", [None, {}, {"Version": "M2", "ECLevel": "L", "DataMask": 1},
                                   {"Version": "3", "ECLevel": "", "DataMask": 1}, {"Version": "3", "ECLevel": "M"}])
def test_a_located_symbol_without_a_usable_format_is_passed_over(monkeypatch, extra):
    """zxing reports no format, or a Micro QR / rMQR guess, for some symbols it loses: no read, no exception."""
    class Lost:
        valid, error = False, "ChecksumError @ QRDecoder.cpp"
        position = None

    Lost.extra = extra
    monkeypatch.setattr(zxingcpp, "read_barcodes", lambda *args, **kwargs: [Lost()])
    assert e.read_with_erasures(np.full((64, 64), 255, np.uint8)) == ()
