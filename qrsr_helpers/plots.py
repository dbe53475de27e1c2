"""Figures the notebooks show and training saves; each function returns its figure (end a cell with ``;``)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from .environment import in_notebook_kernel

# 72 dpi and JPEG in a notebook: grids of noisy codes ~5x smaller than PNG, so the stored outputs stay small enough
# to hand out (tests/test_notebook_outputs.py).
plt.rcParams["figure.dpi"] = 72
if in_notebook_kernel():
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("jpeg", pil_kwargs={"quality": 85})


_BARE = dict(xticks=[], yticks=[])  # image panels: no ticks


def _displayable(images: np.ndarray) -> np.ndarray:
    """uint8 NHWC (or NHW) of uint8 or float-in-[0, 1] images, grey as (N, H, W)."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)
    return images[..., 0] if images.ndim == 4 and images.shape[-1] == 1 else images


def _bars(axis, table, fmt: str, fontsize: float) -> None:
    """One group of bars per row of ``table``, one bar per column, each labelled with its value."""
    names, width = [str(i) for i in table.index], 0.8 / len(table.columns)
    x = np.arange(len(names))
    for i, column in enumerate(table.columns):
        bars = axis.bar(x + (i - (len(table.columns) - 1) / 2) * width, table[column].to_numpy(float), width,
                        label=str(column), color=f"C{i}")
        axis.bar_label(bars, fmt=fmt, fontsize=fontsize)
    axis.set_xticks(x, names, rotation=30 if len(names) > 5 else 0, ha="right" if len(names) > 5 else "center")
    axis.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))


def comparison_grid(columns: Mapping[str, np.ndarray], decoded: Mapping[str, np.ndarray] | None = None, n: int = 4,
                    size: float = 2.2, row_labels: list[str] | None = None) -> plt.Figure:
    """One row per sample, one column per named batch, at one size, nearest-neighbour (an LR shows its real pixels);
    ``decoded`` (a bool per row, for some columns) tags "decoded" / "not decoded": the decoder judges a QR code."""
    batches = {name: _displayable(images) for name, images in columns.items()}
    n = min([n] + [len(images) for images in batches.values()])
    figure, axes = plt.subplots(n, len(batches), figsize=(size * len(batches), size * n), squeeze=False,
                                layout="tight", subplot_kw=_BARE)
    for col, (name, images) in enumerate(batches.items()):
        for row, axis in enumerate(axes[:, col]):
            axis.imshow(images[row], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            if row == 0:
                axis.set_title(f"{name}\n{images.shape[2]}x{images.shape[1]}", fontsize=9)
            if col == 0 and row_labels:
                axis.set_ylabel(row_labels[row], fontsize=8)
            if decoded and name in decoded:
                ok = bool(decoded[name][row])
                axis.text(0.03, 0.97, "decoded" if ok else "not decoded", transform=axis.transAxes, va="top",
                          fontsize=7, color="white",
                          bbox=dict(facecolor="tab:green" if ok else "tab:red", alpha=0.85, pad=1.5, linewidth=0))
    return figure


decode_grid = comparison_grid  # called with ``decoded``


def decode_rate_bars(overall, hr_rates: Mapping[str, float] | None = None,
                     title: str = "Decode rate by upscaler") -> plt.Figure:
    """``evaluate.summarize``'s table as bars per upscaler and decoder; ``hr_rates``: the HR ceiling, dashed."""
    decoders = [c.removeprefix("decode_rate_") for c in overall.columns if c.startswith("decode_rate_")]
    figure, axis = plt.subplots(figsize=(min(1.2 * len(overall) + 2.5, 12), 3.4), layout="tight")
    for i, decoder in enumerate(decoders):
        if hr_rates and decoder in hr_rates:
            axis.axhline(hr_rates[decoder] * 100, color=f"C{i}", linestyle="--", linewidth=1,
                         label=f"HR itself ({decoder})")
    _bars(axis, overall[[f"decode_rate_{d}" for d in decoders]].set_axis(decoders, axis=1) * 100, "%.3g",
          8 if len(overall) <= 5 else 6.5)
    axis.set(ylabel="decoded exactly (%)", ylim=(0, 105), title=title)
    return figure


def loss_curves(histories: Mapping[str, Mapping[str, list]], keys: list[str] | None = None) -> plt.Figure:
    """One panel per stage (``{"SRResNet": history.history, ...}``), one line per loss key, log scale."""
    figure, axes = plt.subplots(1, len(histories), figsize=(4.6 * len(histories), 3.0), squeeze=False, layout="tight")
    for axis, (stage, history) in zip(axes[0], histories.items()):
        for key in [key for key in keys or history if key in history]:
            values = np.asarray(history[key], dtype=float)
            axis.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=key)
        axis.set(yscale="log", xlabel="epoch")
        axis.set_title(f"Training: {stage}", fontsize=10)
        axis.legend(fontsize=7)
    return figure


def decode_rate_curves(table, x: str, title: str = "Decode rate", xlabel: str | None = None) -> plt.Figure:
    """One line per upscaler of ``table`` (columns ``upscaler``, ``x``, ``decode_rate_zxing``) over ``x``."""
    figure, axis = plt.subplots(figsize=(6.0, 3.4), layout="tight")
    for i, (name, rows) in enumerate(table.groupby("upscaler", sort=False)):
        rows = rows.sort_values(x)
        axis.plot(rows[x], rows["decode_rate_zxing"] * 100, marker="o", markersize=4, label=str(name),
                  color=f"C{i}", linestyle="--" if str(name).startswith("HR") else "-")
    axis.set(xlabel=xlabel or x, ylabel="decoded exactly, zxing (%)", ylim=(-3, 103), title=title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return figure


def feature_maps(maps: Mapping[str, np.ndarray], n: int = 6) -> plt.Figure:
    """Per named feature map (H x W x C) of one image, its ``n`` most active channels, each in its own range."""
    figure, axes = plt.subplots(len(maps), n, figsize=(1.5 * n, 1.5 * len(maps)), squeeze=False, subplot_kw=_BARE)
    for row, (name, fmap) in enumerate(maps.items()):
        fmap = np.asarray(fmap, np.float32)
        order = np.argsort(-np.abs(fmap).mean(axis=(0, 1)))[:n]
        for axis in axes[row, len(order):]:
            axis.axis("off")
        for axis, channel in zip(axes[row], order):
            axis.imshow(fmap[..., channel], cmap="gray", interpolation="nearest")
            axis.set_title(f"ch {channel}", fontsize=7)
        axes[row, 0].set_ylabel(f"{name}\n{'x'.join(map(str, fmap.shape))}", fontsize=8)
    figure.tight_layout()  # now, not when drawn: notebook 05 puts a title above it
    return figure


def metric_curves(curves: Mapping[str, list], xlabel: str = "step", ylabel: str = "", title: str = "",
                  x: list | np.ndarray | None = None, ylim: tuple[float, float] | None = None) -> plt.Figure:
    """Named curves on linear axes (accuracies, losses on a known scale) over a shared ``x``."""
    figure, axis = plt.subplots(figsize=(6.0, 3.2), layout="tight")
    for name, values in curves.items():
        values = np.asarray(values, dtype=float)
        axis.plot(np.arange(1, len(values) + 1) if x is None else np.asarray(x)[:len(values)], values,
                  marker="o", markersize=3, label=name)
    axis.set(xlabel=xlabel, ylabel=ylabel, title=title)
    if ylim:
        axis.set_ylim(*ylim)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    return figure


def grouped_bars(table, ylabel: str = "", title: str = "", fmt: str = "%.2f") -> plt.Figure:
    """A pandas DataFrame as grouped bars: one group per row (index), one bar per column."""
    figure, axis = plt.subplots(figsize=(1.6 * len(table) + 2.8, 3.2), layout="tight")
    _bars(axis, table, fmt, 7)
    axis.set(ylabel=ylabel, title=title)
    return figure


def image_with_boxes(image: np.ndarray, boxes: Mapping[str, tuple[int, int, int, int]],
                     size: float = 6.0) -> plt.Figure:
    """A photo with labelled boxes ``{label: (x0, y0, x1, y1)}`` drawn on it."""
    from matplotlib.patches import Rectangle

    image = _displayable(image)
    figure, axis = plt.subplots(figsize=(size, size * image.shape[0] / image.shape[1]), layout="tight",
                                subplot_kw=_BARE)
    axis.imshow(image, cmap="gray", vmin=0, vmax=255)
    for i, (label, (x0, y0, x1, y1)) in enumerate(boxes.items()):
        axis.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, edgecolor=f"C{i + 1}",
                                 linewidth=2, linestyle="-" if i == 0 else "--", label=label))
    if boxes:
        axis.legend(fontsize=8, loc="upper right")
    return figure


def paired_differences(rows: list[Mapping], label: str = "generator", strip: str = "",
                       title: str = "Decode rate against the control, paired on the same codes") -> plt.Figure:
    """``evaluate.paired_comparison`` results with their intervals, one panel per ``degradation``, one point per
    ``rows[i][label]`` (less ``strip``); an interval across the dashed zero line cannot be told from chance."""
    sets = list(dict.fromkeys(row["degradation"] for row in rows))
    figure, axes = plt.subplots(1, len(sets), figsize=(3.3 * len(sets), 2.8), squeeze=False, sharey=True,
                                layout="tight")
    for axis, name in zip(axes[0], sets):
        chosen = [row for row in rows if row["degradation"] == name]
        x = np.arange(len(chosen))
        middle = np.array([row["difference"] for row in chosen]) * 100
        spread = np.array([[row["difference"] - row["low"], row["high"] - row["difference"]] for row in chosen]).T * 100
        axis.errorbar(x, middle, yerr=spread, fmt="o", capsize=4, color="C0")
        axis.axhline(0, color="grey", linestyle="--", linewidth=1)
        axis.set_xticks(x, [str(row[label]).removeprefix(strip) for row in chosen], fontsize=8)
        axis.set_title(f"{name} (n = {chosen[0]['n']})", fontsize=9)
    axes[0][0].set_ylabel("decode rate - control (points)")
    figure.suptitle(title, fontsize=10)
    return figure
