"""The figures hold what they say: bar heights are the rates, grids are samples x columns, intervals are drawn."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from qrsr_helpers import plots  # noqa: E402


def test_decode_rate_bars_are_the_rates_in_percent_with_the_hr_ceiling():
    overall = pd.DataFrame({"decode_rate_zxing": [0.25, 0.5], "decode_rate_opencv": [0.125, 0.75], "psnr": [20, 21]},
                           index=pd.Index(["bicubic", "srgan"], name="upscaler"))
    axis = plots.decode_rate_bars(overall, {"zxing": 0.9}).axes[0]
    heights = [patch.get_height() for patch in axis.patches]
    assert heights == pytest.approx([25, 50, 12.5, 75])  # zxing's bars, then opencv's
    assert [label.get_text() for label in axis.get_xticklabels()] == ["bicubic", "srgan"]
    assert axis.lines[0].get_ydata()[0] == pytest.approx(90)  # HR itself, dashed
    assert [t.get_text() for t in axis.get_legend().get_texts()] == ["HR itself (zxing)", "zxing", "opencv"]


def test_grouped_bars_label_every_bar_with_its_value():
    table = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}, index=["x", "y"])
    axis = plots.grouped_bars(table, fmt="%.1f").axes[0]
    assert [patch.get_height() for patch in axis.patches] == [1.0, 2.0, 3.0, 4.0]
    assert {text.get_text() for text in axis.texts} == {"1.0", "2.0", "3.0", "4.0"}


def test_comparison_grid_is_samples_by_columns_with_each_size_in_the_title():
    lr, hr = np.zeros((5, 8, 8, 1), np.float32), np.full((5, 32, 32, 3), 255, np.uint8)
    figure = plots.decode_grid({"LR": lr, "HR": hr}, {"HR": [True, False, True]}, n=3)
    assert len(figure.axes) == 6
    assert [figure.axes[i].get_title() for i in (0, 1)] == ["LR\n8x8", "HR\n32x32"]
    assert [t.get_text() for t in figure.axes[3].texts] == ["not decoded"]  # row 2, column HR


def test_paired_differences_draw_one_point_per_row_in_points():
    rows = [dict(degradation="clean", upscaler="gan:a", difference=0.02, low=-0.01, high=0.05, n=500),
            dict(degradation="clean", upscaler="gan:b", difference=-0.04, low=-0.06, high=-0.02, n=500)]
    axis = plots.paired_differences(rows, label="upscaler", strip="gan:").axes[0]
    assert list(axis.lines[0].get_ydata()) == pytest.approx([2, -4])
    assert [label.get_text() for label in axis.get_xticklabels()] == ["a", "b"]
    assert axis.get_title() == "clean (n = 500)"
