"""The report's figures: matplotlib (Agg, no display) to PNG. Each function takes numbers and image
paths and returns the PNG it wrote; none of them knows about runs or findings."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

# Cutting a grid PNG back into its images is genlat's (genlat/morph.py, beside the grids' PAD of
# genlat/images.py): the report's morph GIF and a run's W&B video are made by the same code.
from genlat.morph import PAD, tiles, write_gif  # noqa: E402
from genlat.morph import load_rgb as load  # noqa: E402
from genlat.morph import strip as _strip  # noqa: E402

DPI = 110


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-") or "x"


def _save(fig, path: Path, tight: bool = True) -> Path:
    """tight=False for the big metric grids: a tight bounding box draws the figure twice."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight" if tight else None, facecolor="white")
    plt.close(fig)
    return path


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def comparison(rows: list[tuple[str, Path, int]], count: int, path: Path) -> Path:
    """rows: (label, sample grid PNG, grid_nrow). One row per setting: the bank's first `count` images."""
    strips = [(label, _strip(tiles(load(png), nrow, count), axis=1)) for label, png, nrow in rows]
    width = max(s.shape[1] for _, s in strips)
    fig, axes = plt.subplots(
        len(strips), 1, figsize=(min(14, 1.2 + width / 40), 0.3 + 0.9 * len(strips)), squeeze=False
    )
    for ax, (label, strip) in zip(axes[:, 0], strips):
        ax.imshow(strip, cmap="gray", interpolation="nearest", aspect="equal")
        _bare(ax)
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    return _save(fig, path)


def against_settings(values: dict[str, dict[str, list[float]]], labels: list[str], path: Path, cols: int = 4) -> Path:
    """values: metric -> setting label -> per-seed values. Small multiples: mean (line), seeds (dots), the
    95 % interval over seeds (band)."""
    keys = list(values)
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.3 * rows), squeeze=False)
    x = np.arange(len(labels))
    for ax, key in zip(axes.flat, keys):
        means, stds = [], []
        for i, label in enumerate(labels):
            v = [f for f in values[key].get(label, []) if np.isfinite(f)]
            m, half = _interval(v) if v else (np.nan, 0.0)
            means.append(m)
            stds.append(half)
            ax.scatter([i] * len(v), v, s=10, color="tab:blue", alpha=0.5, zorder=3)
        means, stds = np.array(means), np.array(stds)
        ax.plot(x, means, color="tab:blue", marker="o", ms=3)
        ax.fill_between(x, means - stds, means + stds, color="tab:blue", alpha=0.15)
        ax.set_title(key, fontsize=9)
        ax.set_xticks(x, labels, fontsize=7, rotation=30 if len(labels) > 4 else 0)
        ax.tick_params(axis="y", labelsize=7)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    fig.subplots_adjust(
        left=0.05, right=0.98, top=0.96, bottom=0.04, hspace=0.55, wspace=0.3
    )  # tight_layout costs seconds
    return _save(fig, path, tight=False)


def epoch_strips(runs: list[tuple[str, dict[int, Path], int]], count: int, path: Path) -> Path:
    """runs: (label, epoch -> sample grid PNG, grid_nrow), one per seed. Per run a block whose columns
    are epochs and rows the bank's first `count` images: how the same z develops, in every seed."""
    fig, axes = plt.subplots(len(runs), 1, squeeze=False,
                             figsize=(min(16, 1 + 0.75 * max(len(g) for _, g, _ in runs)), 0.3 + (0.2 + 0.75 * count) * len(runs)))  # fmt: skip
    for ax, (label, grids, nrow) in zip(axes[:, 0], runs):
        epochs = sorted(grids)
        columns = [_strip(tiles(load(grids[e]), nrow, count), axis=0) for e in epochs]
        ax.imshow(_strip(columns, axis=1), cmap="gray", interpolation="nearest")
        col_w = columns[0].shape[1] + PAD
        ax.set_xticks([col_w * i + col_w / 2 for i in range(len(epochs))], [str(e) for e in epochs], fontsize=8)
        ax.set_yticks([])
        ax.set_ylabel(label, fontsize=8)
        for spine in ax.spines.values():
            spine.set_visible(False)
    axes[-1, 0].set_xlabel("epoch", fontsize=8)
    return _save(fig, path)


def curves(
    series: dict[str, dict[str, list[tuple[int, float]]]], marks: dict[str, dict[str, int]], path: Path, cols: int = 3
) -> Path:
    """series: metric -> setting -> (epoch, mean over seeds); marks: metric -> setting -> plateau epoch."""
    keys = list(series)
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.6 * rows), squeeze=False)
    colors = plt.get_cmap("viridis")
    order = list(dict.fromkeys(label for s in series.values() for label in s))
    for ax, key in zip(axes.flat, keys):
        for i, label in enumerate(order):
            pts = series[key].get(label)
            if not pts:
                continue
            color = colors(i / max(1, len(order) - 1) * 0.9)
            ax.plot([e for e, _ in pts], [v for _, v in pts], marker="o", ms=3, color=color, label=label)
            if (e := marks.get(key, {}).get(label)) is not None:
                v = dict(pts)[e]
                ax.scatter([e], [v], s=90, facecolors="none", edgecolors=color, linewidths=1.5, zorder=4)
        ax.set_title(key, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis("off")
    if keys:
        axes.flat[0].legend(fontsize=7)
    fig.subplots_adjust(left=0.06, right=0.98, top=0.94, bottom=0.08, hspace=0.55, wspace=0.25)
    return _save(fig, path, tight=False)


def panel_rows(rows: list[list[tuple[str, Path]]], path: Path) -> Path:
    """rows: per seed, its panels (title, PNG) next to each other (slerp | lerp); one row per seed."""
    images = [[(title, load(png)) for title, png in row] for row in rows]
    cols = max(len(r) for r in images)
    widths = [max(r[j][1].shape[1] for r in images if j < len(r)) for j in range(cols)]
    height = max(img.shape[0] for r in images for _, img in r)
    fig, axes = plt.subplots(len(images), cols, figsize=(min(16, 1 + sum(widths) / 45), (0.6 + height / 45) * len(images)),
                             squeeze=False, gridspec_kw={"width_ratios": widths})  # fmt: skip
    for i, row in enumerate(images):
        for j in range(cols):
            ax = axes[i, j]
            _bare(ax)
            if j < len(row):
                ax.imshow(row[j][1], cmap="gray", interpolation="nearest")
                ax.set_title(row[j][0], fontsize=9)
    return _save(fig, path)


def side_by_side(panels: list[tuple[str, Path]], path: Path) -> Path:
    """Panels (title, PNG) next to each other, e.g. slerp | lerp."""
    images = [(title, load(png)) for title, png in panels]
    widths = [img.shape[1] for _, img in images]
    height = max(img.shape[0] for _, img in images)
    fig, axes = plt.subplots(1, len(images), figsize=(min(16, 1 + sum(widths) / 45), 0.6 + height / 45),
                             squeeze=False, gridspec_kw={"width_ratios": widths})  # fmt: skip
    for ax, (title, img) in zip(axes[0], images):
        ax.imshow(img, cmap="gray", interpolation="nearest")
        _bare(ax)
        ax.set_title(title, fontsize=9)
    return _save(fig, path)


def morph_gif(panels: list[Path], steps: int, path: Path, scale: int = 2, ms: int = 250) -> Path:
    """panels: interpolation panels (a row per endpoint pair, `steps` images per row), e.g. slerp and lerp
    of one run. An animated GIF (Pillow) whose frame j shows step j of every pair, one row per panel,
    played forward and back: the morph as it moves. genlat's own maker (genlat/morph.py), which a run
    also uses for its W&B video, so the report's GIF and the run's are made alike."""
    return write_gif(panels, steps, path, scale, ms)


def _interval(values: list[float]) -> tuple[float, float]:
    from analysis.stats import mean_interval

    m, half = mean_interval(values)
    return m, (half or 0.0)


def bar_within(mean: float, half: float, lowest: float | None, highest: float | None) -> tuple[float, float]:
    """An interval's bar below and above the mean, cut where the measure's values end."""
    down = half if lowest is None else max(min(half, mean - lowest), 0.0)
    up = half if highest is None else max(min(half, highest - mean), 0.0)
    return down, up


def with_intervals(
    panels: dict[str, dict[str, list[float]]],
    labels: list[str],
    path: Path,
    bounds: dict[str, tuple[float | None, float | None]] | None = None,
) -> Path:
    """panels: title -> setting -> per-seed values. Mean with its 95 % interval over seeds (bars), seeds as dots.
    bounds: title -> the range the measure can take; a bar stops there (a share's t-interval can pass 0 or 1)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 2.8), squeeze=False)
    x = np.arange(len(labels))
    for ax, (title, by_label) in zip(axes[0], panels.items()):
        lowest, highest = (bounds or {}).get(title, (None, None))
        for i, label in enumerate(labels):
            v = [f for f in by_label.get(label, []) if np.isfinite(f)]
            if v:
                m, half = _interval(v)
                down, up = bar_within(m, half, lowest, highest)
                ax.errorbar([i], [m], yerr=[[down], [up]], fmt="o", color="tab:blue", capsize=4, ms=5, zorder=3)
                ax.scatter([i + 0.12] * len(v), v, s=9, color="tab:gray", alpha=0.7, zorder=2)
        ax.set_title(title, fontsize=9, wrap=True)
        ax.set_xticks(x, labels, fontsize=7, rotation=30 if len(labels) > 4 else 0)
        ax.tick_params(axis="y", labelsize=7)
    fig.subplots_adjust(left=0.07, right=0.98, top=0.82, bottom=0.2, wspace=0.35)
    return _save(fig, path, tight=False)


def band(values: list[float], log: bool) -> tuple[float, float, float]:
    """(centre, low, high) of the 95 % interval over seeds; on a log axis computed on ln(values) (the
    geometric mean and its interval), so the band of positive values never reaches zero or below."""
    if log:
        m, half = _interval([float(np.log(v)) for v in values])
        return float(np.exp(m)), float(np.exp(m - half)), float(np.exp(m + half))
    m, half = _interval(values)
    return m, m - half, m + half


def band_curves(series: dict[str, dict[int, list[float]]], title: str, path: Path) -> Path:
    """series: setting -> epoch -> per-seed values. Mean over seeds against epoch, 95 % interval as a band;
    a log axis when the values are positive and span more than 20× (epoch 1's FD would flatten every later
    epoch) or a linear band would reach zero, its bands computed in log space."""
    values = [v for by_epoch in series.values() for vs in by_epoch.values() for v in vs]
    below_zero = any(band(vs, log=False)[1] <= 0 for by_epoch in series.values() for vs in by_epoch.values())
    log = bool(values) and min(values) > 0 and (max(values) > 20 * min(values) or below_zero)
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    colors = plt.get_cmap("viridis")
    for i, (label, by_epoch) in enumerate(series.items()):
        epochs = sorted(by_epoch)
        m, lo, hi = (np.array(x) for x in zip(*(band(by_epoch[e], log) for e in epochs)))
        color = colors(i / max(1, len(series) - 1) * 0.9)
        ax.plot(epochs, m, marker="o", ms=3, color=color, label=label)
        ax.fill_between(epochs, lo, hi, color=color, alpha=0.15)
    if log:
        ax.set_yscale("log")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("epoch", fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=7)
    if series:
        ax.legend(fontsize=7)
    return _save(fig, path)
