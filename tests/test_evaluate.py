"""The evaluation tables: interpolations, metrics, decode and misread rates, summaries, paired comparisons."""

import cv2
import numpy as np
import pandas as pd
import pytest

from qrsr_helpers.data.pairs import generate_pairs
from qrsr_helpers.decode import READERS, decode_matches
from qrsr_helpers.evaluate import evaluate_upscalers, hr_decode_rate, image_metrics, interpolation_upscaler, summarize


@pytest.fixture(scope="module")
def clean():
    return generate_pairs(24, seed=11, degradation="clean", max_version=2)


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


def test_hr_decode_rate_asks_each_decoder(clean, monkeypatch):
    from qrsr_helpers import evaluate

    reads = {"zxing": np.ones(len(clean), bool), "opencv": np.arange(len(clean)) % 2 == 0}
    monkeypatch.setattr(evaluate, "decode_matches", lambda images, payloads, decoder="zxing": reads[decoder])
    assert evaluate.hr_decode_rate(clean) == {"zxing": 1.0, "opencv": 0.5}
