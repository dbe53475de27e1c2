"""What several benchmarks (and tests/test_cli_enhance.py) share: the held-out codes, a command's peak memory and the
module contrast of an SR image."""

from __future__ import annotations

import numpy as np

KINDS = ("realistic", "clean")

# `python -c PEAK_RSS enhance ...` runs qrsr and reports its own peak as `peak_rss_kb=N` on stderr: VmHWM of its
# memory map. ru_maxrss would also count the parent's resident set at fork time (Linux carries it over exec), so
# a parent holding models would inflate the child's figure.
PEAK_RSS = ("import re, resource, sys\n"
            "from qrsr_helpers.cli import main\n"
            "code = main(sys.argv[1:])\n"
            "try:\n"
            "    peak = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1))\n"
            "except (OSError, AttributeError):  # not Linux\n"
            "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "print(f'peak_rss_kb={peak}', file=sys.stderr)\n"
            "sys.exit(code)\n")


def held_out(n: int, kinds: tuple[str, ...] = KINDS) -> dict:
    """``n`` fresh codes per degradation from ``Config.eval_seed`` (never trained on): what every generator is
    compared with bicubic on."""
    from qrsr_helpers.config import Config
    from qrsr_helpers.data.pairs import generate_pairs

    return {kind: generate_pairs(n, Config.eval_seed, kind) for kind in kinds}


def module_contrast(images: np.ndarray, hr: np.ndarray) -> np.ndarray:
    """Per image: mean grey of ``images`` on the HR's light module centres minus on its dark ones (0-255; high is a
    confident code, whatever a decoder makes of it). Centres are the HR's areas shrunk by a pixel, so module edges do
    not count."""
    import cv2

    if images.shape[:3] != hr.shape[:3]:
        raise ValueError(f"images {images.shape} and HR {hr.shape} differ in size")
    grey = lambda batch: batch.mean(axis=-1) if batch.ndim == 4 else batch.astype(float)
    image_grey, hr_grey, kernel = grey(images), grey(hr), np.ones((3, 3), np.uint8)
    contrast = np.full(len(images), np.nan)
    for i, (shown, truth) in enumerate(zip(image_grey, hr_grey)):
        light = cv2.erode((truth > truth.mean()).astype(np.uint8), kernel).astype(bool)
        dark = cv2.erode((truth <= truth.mean()).astype(np.uint8), kernel).astype(bool)
        if light.any() and dark.any():
            contrast[i] = shown[light].mean() - shown[dark].mean()
    return contrast
