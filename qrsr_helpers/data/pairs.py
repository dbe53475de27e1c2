"""HR/LR pairs: the container, their generation over worker processes, and the on-disk cache."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from itertools import chain
from multiprocessing import get_context
from pathlib import Path

import cv2
import numpy as np

from ..io import atomic_path
from .degrade import degrade
from .synth import PHOTO_MAX_VERSION, PHOTO_STYLES, QRCode, random_code, render_scene


@dataclass
class Pairs:
    """HR/LR pairs (uint8, NHWC) with each sample's payload, version and EC level."""

    hr: np.ndarray
    lr: np.ndarray
    payloads: list[str]
    versions: np.ndarray
    errors: list[str]
    styles: list[str]

    def __len__(self) -> int:
        return len(self.payloads)

    def subset(self, index) -> Pairs:
        index = np.asarray(index)
        return Pairs(*(f[index] if isinstance(f, np.ndarray) else [f[i] for i in index] for f in vars(self).values()))

    @staticmethod
    def concatenate(parts: list[Pairs]) -> Pairs:
        fields = zip(*(vars(p).values() for p in parts))  # arrays concatenated, lists joined
        return Pairs(*(np.concatenate(f) if isinstance(f[0], np.ndarray) else list(chain.from_iterable(f))
                       for f in fields))


def make_pair(seed: int, index: int, style: str, hr_size: int = 128, scale: int = 4, channels: int = 3,
              max_version: int = 4, quiet_zone: int = 4, min_version: int = 1,
              module_px: tuple[float, float] | None = None) -> tuple[QRCode, np.ndarray, np.ndarray]:
    """Sample ``index`` of the stream ``seed`` (code, HR, LR), seeded from (seed, index): no pair depends on workers."""
    rng = np.random.default_rng([seed, index])
    code = random_code(rng, PHOTO_MAX_VERSION if style in PHOTO_STYLES else max_version, min_version)
    hr = render_scene(code, rng, style, hr_size, quiet_zone, scale, module_px)
    hr = cv2.cvtColor(hr, cv2.COLOR_RGB2GRAY)[..., None] if channels == 1 else hr
    hr = np.round(np.clip(hr, 0, 1) * 255).astype(np.uint8)
    return code, hr, degrade(hr, style if style in ("clean", *PHOTO_STYLES) else "realistic", rng, scale)


def _make_chunk(args) -> Pairs:
    seed, start, styles, kwargs = args
    codes, hrs, lrs = zip(*(make_pair(seed, start + i, style, **kwargs) for i, style in enumerate(styles)))
    return Pairs(np.stack(hrs), np.stack(lrs), [c.payload for c in codes],
                 np.array([c.version for c in codes], np.int32), [c.error for c in codes], list(styles))


def _cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def generate_pairs(n: int, seed: int, degradation: str | tuple = "realistic", *, hr_size: int = 128,
                   scale: int = 4, channels: int = 3, max_version: int = 4, quiet_zone: int = 4,
                   min_version: int = 1, module_px: tuple[float, float] | None = None,
                   workers: int | None = None) -> Pairs:
    """``n`` HR/LR pairs of one style or a mix ``((style, weight), ...)``; ``module_px`` narrows the photo styles'
    pitch range (``synth.PHOTO_STYLES``). Workers are spawned, never forked (forking a
    process running TensorFlow can deadlock): import TensorFlow inside a script's ``main()``, or each worker does."""
    if n < 1:
        raise ValueError(f"n={n}: need at least one pair")
    if not 1 <= min_version <= max_version:
        raise ValueError(f"min_version={min_version}: must lie in 1..max_version={max_version}")
    if isinstance(degradation, str):
        styles = [degradation] * n
    else:
        names, weights = zip(*degradation)
        picks = np.random.default_rng([seed, 1 << 30]).choice(len(names), size=n, p=np.array(weights) / sum(weights))
        styles = [names[i] for i in picks]
    if module_px is not None and not (0 < module_px[0] <= module_px[1] and set(styles) <= set(PHOTO_STYLES)):
        raise ValueError(f"module_px={module_px}: a range 0 < low <= high, for the styles {list(PHOTO_STYLES)} only")
    kwargs = dict(hr_size=hr_size, scale=scale, channels=channels, max_version=max_version, quiet_zone=quiet_zone,
                  min_version=min_version, module_px=module_px)
    workers = workers or (_cpu_count() if n >= 1000 else 1)  # below ~1,000 pairs a pool costs more than it saves
    chunk = max(64, -(-n // (workers * 4)))
    jobs = [(seed, s, styles[s:s + chunk], kwargs) for s in range(0, n, chunk)]
    if workers == 1 or len(jobs) == 1:
        return Pairs.concatenate([_make_chunk(job) for job in jobs])
    with get_context("spawn").Pool(min(workers, len(jobs))) as pool:
        return Pairs.concatenate(pool.map(_make_chunk, jobs))


def load_or_generate(config, purpose: str = "train", n: int | None = None, degradation: str | None = None,
                     seed: int | None = None) -> Pairs:
    """``config``'s pairs, generated once, then read from an ``.npz`` named by every knob that shapes them (a changed
    knob never reads stale data). ``eval`` pairs: ``degradation`` and ``eval_seed``, a seed never trained on."""
    if purpose not in ("train", "eval"):
        raise ValueError(f"purpose={purpose!r} is not one of ['train', 'eval']")
    n = n or config.n_codes
    train = purpose == "train"
    mix = degradation or (config.train_mix if train else config.degradation)
    seed = (config.data_seed if train else config.eval_seed) if seed is None else seed
    shape = dict(hr_size=config.hr_size, scale=config.scale, channels=config.channels, max_version=config.max_version,
                 quiet_zone=config.quiet_zone)
    knobs = dict(n=n, seed=seed, degradation=mix, **shape, generator_version=1)  # names the cache file
    key = hashlib.sha1(json.dumps(knobs, sort_keys=True, default=list).encode()).hexdigest()[:12]
    path = Path(config.data_dir) / f"pairs_{purpose}_{n}_{key}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as f:  # the lists of strings were saved as string arrays
                return Pairs(**{key: f[key].tolist() if f[key].dtype.kind == "U" else f[key] for key in f.files})
        except Exception as error:  # noqa: BLE001 - truncated, corrupt or foreign: a cache is rebuilt, never trusted
            print(f"qrsr: data cache {path} is unreadable ({type(error).__name__}); generating it again", flush=True)
    pairs = generate_pairs(n, seed, mix, **shape)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **{key: np.asarray(value) for key, value in vars(pairs).items()})
    return pairs
