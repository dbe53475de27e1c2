"""decode: every decoder reads the exact payload (in every encoding), the cascade's looks, input kinds, threads."""

import cv2
import numpy as np
import pytest
import segno

from qrsr_helpers import decode as decode_module
from qrsr_helpers.data.pairs import generate_pairs
from qrsr_helpers.decode import contrast_stretched, decode, decode_matches, decode_outcomes, to_gray_uint8


@pytest.fixture(scope="module")
def clean():
    return generate_pairs(24, seed=11, degradation="clean", max_version=2)


@pytest.mark.parametrize("decoder", ["zxing", "opencv"])
def test_both_decoders_read_the_exact_payload(clean, decoder):
    result = decode(clean.hr[0], decoder)
    assert result.ok and result.matches(clean.payloads[0])
    assert not result.matches(clean.payloads[0] + "x")
    blank = decode(np.full((128, 128, 3), 255, np.uint8), decoder)
    assert not blank.ok and not blank.matches(clean.payloads[0])


def test_cascade_looks_again_at_the_binarised_image_and_stops_at_the_first_read(clean, monkeypatch):
    looks, real = [], decode_module.zxing_reads

    def binary_only(gray, min_side=0.0):  # a zxing that reads two-level images only
        looks.append(np.unique(gray).size)
        return real(gray, min_side) if looks[-1] <= 2 else ()

    monkeypatch.setattr(decode_module, "zxing_reads", binary_only)
    blurred = cv2.GaussianBlur(clean.hr[0], (0, 0), 1.0)
    assert decode(blurred, "cascade").matches(clean.payloads[0])
    assert len(looks) == 2 and looks[0] > 2 and looks[1] == 2  # as is, then Otsu; the stretch never ran


def test_cascade_refuses_a_symbol_too_small_for_an_enhanced_image(clean):
    small = cv2.resize(clean.hr[0], (36, 36), interpolation=cv2.INTER_AREA)  # ~1.2 px per module
    canvas = np.full((128, 128, 3), 255, np.uint8)
    canvas[40:76, 40:76] = small
    assert decode(canvas, "zxing").matches(clean.payloads[0])  # a real code, read by zxing alone...
    assert not decode(canvas, "cascade").ok  # ...but no x4 image of a real code has modules this small
    twice = cv2.resize(canvas, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)  # ~2.4 px per module
    assert decode(twice, "cascade").matches(clean.payloads[0])


def test_cascade_refuses_opencvs_read_of_a_symbol_too_small_too(clean, monkeypatch):
    """OpenCV's look has zxing's floor (a symbol under MIN_SYMBOL_PX in a x4 image is texture); OpenCV seldom
    reads one, so the symbol's measured side is stood in for."""
    monkeypatch.setattr(decode_module, "zxing_reads", lambda gray, min_side=0.0: ())  # no zxing look reads anything
    for side, read in ((decode_module.MIN_SYMBOL_PX - 1, False), (decode_module.MIN_SYMBOL_PX, True)):
        monkeypatch.setattr(decode_module, "_side", lambda corners, side=side: float(side))
        assert decode(clean.hr[0], "cascade").ok == read and decode(clean.hr[0], "opencv").ok, side


def test_a_valid_read_of_another_payload_is_a_misread(clean):
    payloads = list(clean.payloads[:4])
    payloads[1] = payloads[1] + "x"
    matched, misread = decode_outcomes(clean.hr[:4], payloads, "zxing")
    assert matched.tolist() == [True, False, True, True] and misread.tolist() == [False, True, False, False]
    blank = np.full((2, 128, 128, 3), 255, np.uint8)
    assert not decode_outcomes(blank, payloads[:2], "cascade")[1].any()  # no read is no misread


def test_unknown_decoder_is_refused(clean):
    with pytest.raises(ValueError, match="decoder='zbar'"):
        decode(clean.hr[0], "zbar")


def test_gray_conversion_of_every_input_kind(clean):
    rgb = clean.hr[0]
    gray = to_gray_uint8(rgb)
    assert gray.shape == (128, 128) and gray.dtype == np.uint8
    np.testing.assert_array_equal(to_gray_uint8(rgb.astype(np.float32) / 255.0), gray)
    np.testing.assert_array_equal(to_gray_uint8(gray[..., None]), gray)
    transparent = np.dstack([np.zeros_like(rgb), 255 - gray])  # black ink, alpha = darkness
    np.testing.assert_array_equal(to_gray_uint8(transparent), gray)


def test_decode_matches_in_threads_is_the_same_as_one_by_one(clean):
    payloads = list(clean.payloads)
    payloads[3] = "not this one"
    for decoder in ("zxing", "opencv"):
        one = decode_matches(clean.hr, payloads, decoder)  # in threads
        np.testing.assert_array_equal(one, [decode(hr, decoder).matches(p) for hr, p in zip(clean.hr, payloads)])
        assert one.dtype == bool and not one[3]
        assert one.sum() >= (23 if decoder == "zxing" else 18)  # OpenCV misses a few clean codes
    with pytest.raises(ValueError, match="24 images but 2 payloads"):
        decode_matches(clean.hr, payloads[:2])


def test_decode_matches_reads_with_zxing_when_no_decoder_is_named(clean, monkeypatch):
    """Notebooks call ``decode_matches(images, payloads)``: the default is zxing-cpp, the decoder the lessons name."""
    asked = []
    real = decode_module.decode_outcomes
    monkeypatch.setattr(decode_module, "decode_outcomes", lambda *a, **k: asked.append(a[2]) or real(*a, **k))
    read = decode_matches(clean.hr[:4], clean.payloads[:4])
    assert asked == ["zxing"] and read.tolist() == [True] * 4


def test_the_cascade_looks_at_opencv_last(clean, monkeypatch):
    monkeypatch.setattr(decode_module, "zxing_reads", lambda gray, min_side=0.0: ())  # zxing reads nothing anywhere
    big = cv2.resize(clean.hr[0], (256, 256), interpolation=cv2.INTER_NEAREST)
    assert decode(big, "cascade").matches(clean.payloads[0])  # read by the real OpenCV look


def test_contrast_stretch_maps_the_2nd_and_98th_percentiles_to_black_and_white():
    gray = np.tile(np.arange(50, 150, dtype=np.uint8), (10, 1))  # 50..149, every value ten times
    lo, hi = np.percentile(gray, (2, 98))
    expected = np.clip((gray.astype(np.float32) - lo) * 255.0 / (hi - lo), 0, 255).astype(np.uint8)
    stretched = contrast_stretched(gray)
    np.testing.assert_array_equal(stretched, expected)
    assert stretched.min() == 0 and stretched.max() == 255 and (stretched == 0).sum() == 30
    assert (contrast_stretched(np.full((8, 8), 7, np.uint8)) == 0).all()  # flat: no division by zero


@pytest.mark.parametrize("payload, encoding, expected", [
    ("日本語テキスト", "shift_jis", "日本語テキスト"),
    ("Grüße, café", "latin-1", "Grüße, café"),
    ("κόσμε ✓", "utf-8", "κόσμε ✓"),
])
def test_every_payload_encoding_is_read_by_both_decoders(payload, encoding, expected):
    from qrsr_helpers.decode import decode

    code = segno.make(payload, encoding=encoding, micro=False)
    image = np.kron(np.pad((1 - np.asarray(code.matrix, np.uint8)) * 255, 4, constant_values=255),
                    np.ones((6, 6), np.uint8)).astype(np.uint8)
    assert decode(image, "zxing").texts == (expected,)
    assert decode(image, "opencv").texts == (expected,)  # OpenCV's UTF-8-only path raised on Shift-JIS


