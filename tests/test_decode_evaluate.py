"""Decoders and the evaluation table: exact payloads, input formats, threads, metrics, summaries."""

import threading

import cv2
import numpy as np
import pandas as pd
import pytest

from qrsr_helpers import decode as decode_module
from qrsr_helpers.data.pairs import generate_pairs
from qrsr_helpers.decode import (
    READERS,
    _opencv_detector,
    contrast_stretched,
    decode,
    decode_matches,
    decode_outcomes,
    to_gray_uint8,
)
from qrsr_helpers.evaluate import evaluate_upscalers, hr_decode_rate, image_metrics, interpolation_upscaler, summarize


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
    looks, real = [], decode_module._zxing

    def binary_only(gray, min_side=0.0):  # a zxing that reads two-level images only
        looks.append(np.unique(gray).size)
        return real(gray, min_side) if looks[-1] <= 2 else ()

    monkeypatch.setattr(decode_module, "_zxing", binary_only)
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


def test_cascade_refuses_opencvs_read_of_a_symbol_too_small_too(monkeypatch):
    """The last look (OpenCV) has the same floor as zxing's: a read of a symbol narrower than MIN_SYMBOL_PX
    in a x4 image is texture, not a code. OpenCV seldom reads such symbols, so its answer is stood in for."""
    from qrsr_helpers import decode as module
    from qrsr_helpers.payload import payload_read

    monkeypatch.setattr(module, "_zxing", lambda gray, min_side=0.0: ())  # no zxing look reads anything
    gray = np.full((128, 128), 255, np.uint8)
    for side, read in ((module.MIN_SYMBOL_PX - 1, False), (module.MIN_SYMBOL_PX, True)):
        monkeypatch.setattr(module, "_opencv", lambda g, side=side: (payload_read(b"1234"), float(side)))
        assert decode(gray, "cascade").ok == read and decode(gray, "opencv").ok, side


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


def test_decode_matches_is_the_same_with_any_number_of_threads(clean):
    payloads = list(clean.payloads)
    payloads[3] = "not this one"
    for decoder in ("zxing", "opencv"):
        one = decode_matches(clean.hr, payloads, decoder, workers=1)
        four = decode_matches(clean.hr, payloads, decoder, workers=4)
        np.testing.assert_array_equal(one, four)
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


def test_each_thread_has_its_own_opencv_detector():
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(_opencv_detector())) for _ in range(3)]
    [t.start() for t in threads], [t.join() for t in threads]
    assert len({id(d) for d in seen}) == 3
    assert _opencv_detector() is _opencv_detector()


def test_interpolation_upscalers_and_metrics(clean):
    sr = interpolation_upscaler("nearest")(clean.lr)
    assert sr.shape == clean.hr.shape and sr.dtype == np.uint8
    np.testing.assert_array_equal(sr[0, :4, :4, 0], np.full((4, 4), clean.lr[0, 0, 0, 0]))
    with np.errstate(divide="ignore"):
        psnr, ssim = image_metrics(clean.hr, clean.hr)
    assert np.isinf(psnr).all() and np.allclose(ssim, 1.0)
    psnr, ssim = image_metrics(interpolation_upscaler("bicubic")(clean.lr), clean.hr)
    assert (psnr > 5).all() and (psnr < 40).all() and (ssim < 1).all()
    with pytest.raises(ValueError, match="differ in shape"):
        image_metrics(clean.lr, clean.hr)
    with pytest.raises(ValueError, match="upscaler='sharp'"):
        interpolation_upscaler("sharp")
    flags = {"nearest": cv2.INTER_NEAREST, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC,
             "lanczos": cv2.INTER_LANCZOS4}
    for name, flag in flags.items():  # each name is its own OpenCV kernel, image by image
        expected = np.stack([cv2.resize(x, (128, 128), interpolation=flag) for x in clean.lr[:3]])
        np.testing.assert_array_equal(interpolation_upscaler(name)(clean.lr[:3]), expected, err_msg=name)
    grey = interpolation_upscaler("bicubic")(clean.lr[:2, ..., :1])
    assert grey.shape == (2, 128, 128, 1)


def test_each_decoders_column_comes_from_that_decoder(clean, monkeypatch):
    from qrsr_helpers import evaluate

    n = len(clean)
    outcomes = {"zxing": (np.ones(n, bool), np.zeros(n, bool)),
                "opencv": (np.arange(n) < n // 4, np.arange(n) >= n - 2),
                "cascade": (np.arange(n) < n // 2, np.zeros(n, bool))}
    monkeypatch.setattr(evaluate, "decode_outcomes", lambda images, payloads, decoder="zxing": outcomes[decoder])
    tables = evaluate.evaluate_upscalers(clean, {"nearest": interpolation_upscaler("nearest")}, READERS)
    row = tables["overall"].loc["nearest"]
    assert (row["decode_rate_zxing"], row["decode_rate_opencv"], row["decode_rate_cascade"]) == (1.0, 0.25, 0.5)
    assert (row["misread_rate_opencv"], row["misread_rate_zxing"]) == pytest.approx((2 / n, 0.0), abs=1e-4)
    per_image = tables["per_image"]
    assert list(per_image.index) == list(range(n)) and {"version", "error", "psnr", "ssim"} <= set(per_image)
    assert per_image["error"].tolist() == list(clean.errors)


def test_the_cascade_looks_at_opencv_last(clean, monkeypatch):
    from qrsr_helpers import decode as module

    monkeypatch.setattr(module, "_zxing", lambda gray, min_side=0.0: ())  # zxing reads nothing, in every look
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


def test_evaluate_tables(clean):
    tables = evaluate_upscalers(clean, {"nearest": interpolation_upscaler("nearest"),
                                        "bicubic": interpolation_upscaler("bicubic")})
    overall = tables["overall"]
    assert list(overall.index) == ["nearest", "bicubic"]
    assert list(overall.columns) == ["decode_rate_zxing", "decode_rate_opencv", "misread_rate_zxing",
                                     "misread_rate_opencv", "psnr", "ssim", "n"]
    assert (overall["n"] == 24).all() and overall[["decode_rate_zxing", "decode_rate_opencv"]].le(1).all().all()
    assert set(tables["per_version"].index.get_level_values("version")) == set(clean.versions.tolist())
    assert len(tables["per_image"]) == 48


def test_summarize_means_per_group_in_order():
    results = pd.DataFrame({"upscaler": ["b", "b", "b", "a"], "version": [2, 1, 2, 1],
                            "decoded_zxing": [True, False, True, False], "decoded_opencv": [True, True, False, False],
                            "psnr": [10.0, 20.0, 30.0, 5.0], "ssim": [0.5, 0.7, 0.9, 0.1]})
    overall = summarize(results)
    assert list(overall.index) == ["b", "a"]  # upscalers keep their order
    assert overall.loc["b", "decode_rate_zxing"] == round(2 / 3, 4) and overall.loc["b", "psnr"] == 20.0
    assert overall.loc["a", "n"] == 1
    by_version = summarize(results, "version")
    assert list(by_version.index) == [("b", 1), ("b", 2), ("a", 1)]  # versions ascending
    assert by_version.loc[("b", 2), "decode_rate_opencv"] == 0.5 and by_version.loc[("b", 2), "n"] == 2


def test_hr_decode_rate_is_the_ceiling(clean):
    rates = hr_decode_rate(clean)
    assert set(rates) == {"zxing", "opencv"} and rates["zxing"] == 1.0 and rates["opencv"] >= 0.9


def test_evaluation_scores_what_the_upscaler_returns(clean):
    """An upscaler that returns the HR image for exactly half the codes and a blank for the rest: the decode rate
    is half of what the HR images themselves read, with no misread, and PSNR is worst on the blanks."""
    from qrsr_helpers.evaluate import paired_comparison

    half = np.arange(len(clean)) % 2 == 0

    def upscale(lr):
        return np.where(half[:, None, None, None], clean.hr, np.full_like(clean.hr, 255))

    results = evaluate_upscalers(clean, {"half": upscale}, decoders=("zxing", "cascade"))
    hr_reads = decode_matches(clean.hr, clean.payloads, "zxing")
    per_image = results["per_image"]
    np.testing.assert_array_equal(per_image.decoded_zxing.to_numpy(), hr_reads & half)
    assert results["overall"].loc["half", "decode_rate_zxing"] == pytest.approx((hr_reads & half).mean(), abs=1e-4)
    assert results["overall"].loc["half", "misread_rate_cascade"] == 0
    assert (per_image.psnr[~half] < 10).all()
    paired = paired_comparison(per_image.decoded_zxing.to_numpy(), hr_reads)
    assert paired["only_a"] == 0 and paired["only_b"] == int((hr_reads & ~half).sum())


def test_paired_comparison_counts_discordant_codes_and_its_interval():
    from qrsr_helpers.evaluate import paired_comparison

    a = np.array([1, 1, 1, 0, 0, 1, 0, 1, 1, 1], bool)
    b = np.array([1, 0, 0, 0, 1, 1, 0, 1, 0, 1], bool)
    p = paired_comparison(a, b)
    assert (p["only_a"], p["only_b"], p["n"]) == (3, 1, 10)
    assert p["difference"] == pytest.approx(0.2)
    half_width = 1.959964 * np.sqrt(3 + 1 - (3 - 1) ** 2 / 10) / 10  # Wald interval of a paired difference
    assert (p["low"], p["high"]) == pytest.approx((0.2 - half_width, 0.2 + half_width), rel=1e-5)
    assert p["mcnemar_p"] == pytest.approx(0.625)  # two-sided exact binomial: 1 of 4 discordant, p = 0.5
    assert (p["rate_a"], p["rate_b"]) == (0.7, 0.5)
    assert paired_comparison(a, a)["mcnemar_p"] == 1.0
    c = np.array([1, 1, 1, 1, 0, 1, 0, 0, 1, 0, 0, 0], bool)  # 4 codes only c reads, 1 only d: not symmetric
    d = np.array([0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0], bool)
    q = paired_comparison(c, d)
    half_width = 1.959964 * np.sqrt(4 + 1 - (4 - 1) ** 2 / 12) / 12
    assert (q["low"], q["high"]) == pytest.approx((0.25 - half_width, 0.25 + half_width), rel=1e-5)
    assert q["mcnemar_p"] == pytest.approx(0.375)  # P(X <= 1 | 5, 0.5) x 2 = 6 / 32 x 2
    assert paired_comparison(c.astype(int).tolist(), d.astype(int).tolist()) == q  # 0/1 lists are outcomes too
    same = paired_comparison(c, c)
    assert same["low"] == same["high"] == same["difference"] == 0.0  # no discordant code: no uncertainty
    for bad in ((c[:0], d[:0]), (c.reshape(3, 4), d.reshape(3, 4)), (c, d[:5])):
        with pytest.raises(ValueError, match="non-empty 1-D"):
            paired_comparison(*bad)
    with pytest.raises(ValueError):
        paired_comparison(a, b[:5])


def test_module_contrast_is_high_for_the_truth_and_zero_for_grey(clean):
    from qrsr_helpers.evaluate import module_contrast

    truth = module_contrast(clean.hr, clean.hr)
    assert (truth > 150).all()  # clean codes: near-black modules on near-white paper
    grey = module_contrast(np.full_like(clean.hr, 128), clean.hr)
    np.testing.assert_allclose(grey, 0.0)
    inverted = module_contrast(255 - clean.hr, clean.hr)
    np.testing.assert_allclose(inverted, -truth, rtol=1e-6)
    tinted = clean.hr.copy()
    tinted[..., 0] = 255  # a red cast: only the mean over channels is the grey a decoder sees
    expected = []
    for shown, grey_hr in zip(tinted.mean(-1), clean.hr.mean(-1)):
        light = cv2.erode((grey_hr > grey_hr.mean()).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        dark = cv2.erode((grey_hr <= grey_hr.mean()).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        expected.append(shown[light].mean() - shown[dark].mean())
    np.testing.assert_allclose(module_contrast(tinted, clean.hr), expected, rtol=1e-6)
    assert (module_contrast(tinted, clean.hr) < truth).all()
    with pytest.raises(ValueError, match="differ in size"):
        module_contrast(clean.hr[:, :64], clean.hr)


def test_hr_decode_rate_asks_each_decoder(clean, monkeypatch):
    from qrsr_helpers import evaluate

    reads = {"zxing": np.ones(len(clean), bool), "opencv": np.arange(len(clean)) % 2 == 0}
    monkeypatch.setattr(evaluate, "decode_matches", lambda images, payloads, decoder="zxing": reads[decoder])
    assert evaluate.hr_decode_rate(clean) == {"zxing": 1.0, "opencv": 0.5}
