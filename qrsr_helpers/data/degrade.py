"""HR -> LR, one function for training and evaluation (a model trained on one resize kernel scores badly on another):
the tutorial's INTER_AREA, a camera chain and a phone's."""

from __future__ import annotations

import cv2
import numpy as np

# --- lesson degradation: notebook 01 shows this text verbatim ---
_KERNELS = (cv2.INTER_AREA, cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_LANCZOS4)


def degrade_clean(hr: np.ndarray, scale: int = 4) -> np.ndarray:
    """The tutorial's LR: ``cv2.resize(hr, (w/scale, h/scale), interpolation=cv2.INTER_AREA)``."""
    h, w = hr.shape[:2]
    lr = cv2.resize(hr, (w // scale, h // scale), interpolation=cv2.INTER_AREA)
    return lr.reshape(lr.shape[:2] + hr.shape[2:])


def degrade_realistic(hr: np.ndarray, rng: np.random.Generator, scale: int = 4) -> np.ndarray:
    """A camera-like LR of a uint8 HR image (HWC), drawn from ``rng``; uint8 of the same channels."""
    image = hr.astype(np.float32) / 255.0
    h, w = hr.shape[:2]
    if rng.random() < 0.85:  # defocus; sigma in HR pixels, up to ~0.6 LR pixel
        sigma = rng.uniform(0.3, 0.6 * scale)
        image = cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, sigmaY=sigma * rng.uniform(0.7, 1.3))
    if rng.random() < 0.15:  # hand shake: a short motion-blur line
        length = int(rng.integers(2, scale + 3))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        rotation = cv2.getRotationMatrix2D(((length - 1) / 2, (length - 1) / 2), rng.uniform(0, 180), 1.0)
        kernel = cv2.warpAffine(kernel, rotation, (length, length))
        image = cv2.filter2D(image, -1, kernel / max(kernel.sum(), 1e-6))
    lr = cv2.resize(image, (w // scale, h // scale), interpolation=_KERNELS[int(rng.integers(len(_KERNELS)))])
    lr = lr.reshape(lr.shape[:2] + hr.shape[2:])
    if rng.random() < 0.7:  # sensor noise, colour or luminance
        sigma = rng.uniform(0.0, 0.045)
        shape = lr.shape if rng.random() < 0.5 else lr.shape[:2] + (1,) * (lr.ndim - 2)
        lr = lr + rng.normal(0.0, sigma, shape).astype(np.float32)
    lr = np.round(np.clip(lr, 0, 1) * 255).astype(np.uint8)
    if rng.random() < 0.6:
        quality = int(rng.integers(35, 96))
        ok, buffer = cv2.imencode(".jpg", lr, [cv2.IMWRITE_JPEG_QUALITY, quality])
        lr = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED).reshape(lr.shape)
    return lr
# --- end of lesson degradation ---


def degrade_photo(hr: np.ndarray, rng: np.random.Generator, scale: int = 4) -> np.ndarray:
    """A phone camera's LR of a uint8 HR scene (HWC, the geometry already in it), drawn from ``rng``."""
    image = hr.astype(np.float32) / 255.0
    sigma = rng.uniform(0.2, 0.5) * scale  # the lens's (and focus's) spread, 0.2-0.5 LR pixel
    image = cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, sigmaY=sigma * rng.uniform(0.7, 1.3))
    lr = degrade_clean(image.reshape(hr.shape), scale)  # each sensor pixel integrates its scale x scale area
    # Shot noise (variance proportional to the light) + read noise; per colour or luminance only.
    shot, read = rng.uniform(1e-5, 8e-4), rng.uniform(1e-6, 1e-4)  # std at mid grey: 0.3-2.2 % of full scale
    shape = lr.shape if rng.random() < 0.5 else lr.shape[:2] + (1,) * (lr.ndim - 2)
    lr = lr + np.sqrt(shot * lr + read) * rng.standard_normal(shape, dtype=np.float32)
    if rng.random() < 0.5:  # the phone's sharpening (unsharp mask), which rings at module edges
        amount = np.float32(rng.uniform(0.3, 1.0))
        lr = lr + amount * (lr - cv2.GaussianBlur(lr, (0, 0), 1.0).reshape(lr.shape))
    lr = np.round(np.clip(lr, 0, 1) * 255).astype(np.uint8)
    ok, buffer = cv2.imencode(".jpg", lr, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(50, 96))])
    return cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED).reshape(lr.shape)


def degrade_shrunk(hr: np.ndarray, rng: np.random.Generator, scale: int = 4) -> np.ndarray:
    """A photo taken larger and downscaled by ``cv2.INTER_AREA``: the lens's blur shrinks with it (0.05-0.35 LR pixel)
    and the box filter averages the sensor's noise, sharpening and JPEG blocks away (a trace of noise is left)."""
    sigma = rng.uniform(0.05, 0.35) * scale
    image = cv2.GaussianBlur(hr.astype(np.float32) / 255.0, (0, 0), sigmaX=sigma, sigmaY=sigma * rng.uniform(0.7, 1.3))
    lr = degrade_clean(image.reshape(hr.shape), scale)
    lr = lr + rng.normal(0.0, rng.uniform(0.0, 0.01), lr.shape).astype(np.float32)
    return np.round(np.clip(lr, 0, 1) * 255).astype(np.uint8)


_CAMERA_CHAINS = {"realistic": degrade_realistic, "photo": degrade_photo, "shrunk": degrade_shrunk}  # seeded rng


def degrade(hr: np.ndarray, kind: str, rng: np.random.Generator | None = None, scale: int = 4) -> np.ndarray:
    """``clean`` | ``realistic`` | ``photo`` | ``shrunk``: the one entry point training and evaluation share."""
    if kind == "clean":
        return degrade_clean(hr, scale)
    if kind not in _CAMERA_CHAINS:
        raise ValueError(f"degradation kind={kind!r} is not one of {['clean', *_CAMERA_CHAINS]}")
    if rng is None:
        raise ValueError(f"degrade(kind={kind!r}) needs a seeded rng: np.random.default_rng(seed)")
    return _CAMERA_CHAINS[kind](hr, rng, scale)
