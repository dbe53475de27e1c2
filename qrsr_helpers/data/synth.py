"""Synthetic QR codes from segno, each keeping its payload (the tutorial's Kaggle images lack it: "does it decode to the
right text?" is measurable on every sample), in five scene styles: ``clean``, ``realistic``, ``wild``, ``photo``,
``shrunk``."""

from __future__ import annotations

import string
from dataclasses import dataclass

import cv2
import numpy as np
import segno

EC_LEVELS = ("L", "M", "Q", "H")
# Byte-mode capacities (characters) per version and error-correction level, ISO/IEC 18004 table 7.
_BYTE_CAPACITY = {
    1: (17, 14, 11, 7), 2: (32, 26, 20, 14), 3: (53, 42, 32, 24), 4: (78, 62, 46, 34),
    5: (106, 84, 60, 44), 6: (134, 106, 74, 58), 7: (154, 122, 86, 64), 8: (192, 152, 108, 84),
    9: (230, 180, 130, 98), 10: (271, 213, 151, 119),
}
_WORDS = (
    "quick brown fox jumps over lazy dog pixel module code scan phone ticket menu table wifi "
    "coffee train gate seat order paper light dark model learn image super resolution camera"
).split()
_URL_CHARS = string.ascii_lowercase + string.digits
_TLDS = ("com", "org", "net", "io", "de", "fr", "dev")
SUPERSAMPLE = 2  # scenes are drawn at 2x and area-downscaled: anti-aliased edges like a real photo
PHOTO_MAX_VERSION = 10  # the photo style draws versions 1..10 whatever max_version: its pitch is drawn apart
PHOTO_MODULE_PX = (0.75, 2.5)  # LR pixels per module of the photo style's pairs
# A label as a phone sees it (photo), or photographed larger and downscaled by its user (shrunk, the real-photo
# benchmarks' procedure), its pairs drawn at the small pitches where decoders give up.
PHOTO_STYLES = {"photo": PHOTO_MODULE_PX, "shrunk": (0.5, 1.6)}


@dataclass(frozen=True)
class QRCode:
    """One generated symbol: its module matrix (True = dark) and what it encodes."""

    payload: str
    version: int
    error: str
    matrix: np.ndarray  # bool (n, n), no quiet zone

    @property
    def modules(self) -> int:
        return self.matrix.shape[0]


def random_payload(rng: np.random.Generator, length: int) -> str:
    """A URL-like or free-text payload of exactly ``length`` characters (no edge whitespace)."""
    if length >= 14 and rng.random() < 0.6:
        host = "".join(rng.choice(list(_URL_CHARS), size=int(rng.integers(3, 9))))
        text = f"https://{host}.{rng.choice(_TLDS)}/"
        fill = _URL_CHARS + string.ascii_uppercase + "-_"
    else:
        words = rng.choice(_WORDS, size=length)
        text = " ".join(words).capitalize()
        fill = string.ascii_letters + string.digits
    while len(text) < length:
        text += fill[int(rng.integers(len(fill)))]
    text = text[:length]
    return text[:-1] + "x" if text[-1] == " " else text


def random_code(rng: np.random.Generator, max_version: int = 4, min_version: int = 1) -> QRCode:
    """A code of a uniformly drawn version and EC level, its payload long enough to need that version."""
    version = int(rng.integers(min_version, max_version + 1))
    ec_index = int(rng.integers(len(EC_LEVELS)))
    low = _BYTE_CAPACITY[version - 1][ec_index] + 1 if version > 1 else 1
    payload = random_payload(rng, int(rng.integers(low, _BYTE_CAPACITY[version][ec_index] + 1)))
    # An explicit mask skips segno's 8-way mask evaluation (4x faster); any mask is a valid code.
    qr = segno.make_qr(payload, error=EC_LEVELS[ec_index], version=version, mask=int(rng.integers(8)),
                       boost_error=False, encoding="utf-8")
    return QRCode(payload, int(qr.version), str(qr.error), np.array(qr.matrix, dtype=bool))


def _sharp(matrix: np.ndarray, quiet_zone: int, per_module: int) -> np.ndarray:
    """The code and its quiet zone, ``per_module`` px per module, float32, light = 1."""
    modules = np.pad(~matrix, quiet_zone, constant_values=True).astype(np.float32)
    return cv2.resize(modules, (modules.shape[0] * per_module,) * 2, interpolation=cv2.INTER_NEAREST)


def render_code(matrix: np.ndarray, size: int, quiet_zone: int = 4) -> np.ndarray:
    """The tutorial's image: code and quiet zone area-resized to ``size``x``size``, float32 in [0, 1], light = 1."""
    sharp = _sharp(matrix, quiet_zone, max(8, -(-4 * size // (matrix.shape[0] + 2 * quiet_zone))))
    return cv2.resize(sharp, (size, size), interpolation=cv2.INTER_AREA)


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    coarse = rng.random((int(rng.integers(2, 7)),) * 2 + (3,)).astype(np.float32)
    bg = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    fine = cv2.resize(rng.normal(0, 1, (size // 4, size // 4, 3)).astype(np.float32), (size, size))
    bg = bg + fine * rng.uniform(0.0, 0.12)
    for _ in range(int(rng.integers(0, 4))):  # edges of objects: tables, frames, text lines
        p1, p2 = rng.integers(0, size, 2), rng.integers(0, size, 2)
        cv2.line(bg, tuple(map(int, p1)), tuple(map(int, p2)), rng.random(3).tolist(), int(rng.integers(1, 8)))
    grey = bg.mean(axis=2, keepdims=True)  # real scenes are far less saturated than random colours
    return np.clip(grey + (bg - grey) * rng.uniform(0.1, 0.6), 0, 1)


def _ink_and_paper(rng: np.random.Generator, style: str) -> tuple[np.ndarray, np.ndarray]:
    """Dark- and light-module colours: near black/white, tinted, with less contrast in the wild."""
    if style == "clean":
        return np.zeros(3, np.float32), np.ones(3, np.float32)
    spread = 0.35 if style in ("realistic", "photo") else 0.5
    dark = rng.uniform(0.0, spread) + rng.uniform(-0.08, 0.08, 3)
    light = rng.uniform(1 - spread, 1.0) + rng.uniform(-0.08, 0.08, 3)
    return np.clip(dark, 0, 1).astype(np.float32), np.clip(light, 0, 1).astype(np.float32)


def render_scene(code: QRCode, rng: np.random.Generator, style: str, hr_size: int = 128,
                 quiet_zone: int = 4, scale: int = 4, module_px: tuple[float, float] | None = None) -> np.ndarray:
    """The sharp HR target (float32 RGB in [0, 1]); blur, resampling, noise and JPEG belong to the LR (``degrade``).
    ``module_px``: the photo styles' range of LR pixels per module, if not their own (``PHOTO_STYLES``)."""
    if style == "clean":
        return np.repeat(render_code(code.matrix, hr_size, quiet_zone)[..., None], 3, axis=2)
    canvas = hr_size * SUPERSAMPLE
    if style in PHOTO_STYLES:
        scene = _background(rng, canvas)
        pitch = rng.uniform(*(module_px or PHOTO_STYLES[style])) * scale * SUPERSAMPLE  # canvas pixels per module
        draw_photo_label(scene, code, rng, pitch, rng.uniform(0.3, 0.7, 2) * canvas, quiet_zone)
        return cv2.resize(scene, (hr_size, hr_size), interpolation=cv2.INTER_AREA)
    sharp = _sharp(code.matrix, quiet_zone, 8)
    if style == "realistic":  # where the code's outer corners land on the canvas
        side = canvas * rng.uniform(0.88, 1.0)
        centre = canvas / 2 + rng.uniform(-0.04, 0.04, 2) * canvas
        angle, warp = np.deg2rad(rng.uniform(-6, 6)), 0.03
    else:  # wild: module pitch of 0.75-2.2 LR pixels, anywhere, partly outside the frame too
        side = sharp.shape[0] // 8 * rng.uniform(0.75, 2.2) * canvas / (hr_size // scale)
        centre = rng.uniform(0.2, 0.8, 2) * canvas
        angle, warp = np.deg2rad(rng.uniform(-30, 30)), 0.08
    square = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float32) * side / 2
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
    dst = (square @ rotation.T + rng.uniform(-warp, warp, (4, 2)) * side + centre).astype(np.float32)
    homography = cv2.getPerspectiveTransform(np.float32([[0, 0], [1, 0], [1, 1], [0, 1]]) * sharp.shape[0], dst)
    # Warp sharp at 2x, then compose colours at HR size (4x fewer pixels to blend).
    warped, mask = (cv2.resize(cv2.warpPerspective(m, homography, (canvas, canvas), flags=cv2.INTER_LINEAR),
                               (hr_size, hr_size), interpolation=cv2.INTER_AREA)[..., None]
                    for m in (sharp, np.ones_like(sharp)))
    dark, light = _ink_and_paper(rng, style)
    code_rgb = dark + warped * (light - dark)
    background = light * np.float32(rng.uniform(0.8, 1.0)) if style == "realistic" else _background(rng, hr_size)
    scene = background * (1 - mask) + code_rgb * mask
    ramp = np.linspace(-0.5, 0.5, hr_size, dtype=np.float32)  # uneven lighting: a tilted plane
    gx, gy = rng.uniform(-0.35, 0.35, 2).astype(np.float32)
    lighting = (1 + gx * ramp[None, :] + gy * ramp[:, None]) * np.float32(rng.uniform(0.8, 1.15))
    return np.clip(scene * lighting[..., None], 0, 1)


def draw_photo_label(scene: np.ndarray, code: QRCode, rng: np.random.Generator, module_px: float,
                     centre: np.ndarray, quiet_zone: int = 4) -> np.ndarray:
    """Draw ``code``'s label into ``scene`` (float32 RGB, in place) as a phone sees it, ``module_px`` px per module at
    its centre; returns the label's outer corners in the scene (4 x 2)."""
    per_module = int(np.clip(np.ceil(module_px), 2, 8))
    # The label seen straight on, at 8 px per module: (ink with dot gain, paper grain, inside).
    sharp = _sharp(code.matrix, quiet_zone, 8)
    soft = cv2.GaussianBlur(sharp, (0, 0), 8 * rng.uniform(0.06, 0.2))
    ink = np.clip((soft - rng.uniform(0.35, 0.65)) / 0.15 + 0.5, 0, 1)  # > 0.5: dark modules grow (dot gain)
    grain = cv2.GaussianBlur(rng.standard_normal(sharp.shape, dtype=np.float32), (0, 0), 1.0)
    paper = 1 + grain * np.float32(rng.uniform(0.05, 0.25))  # blurred grain has std ~0.28: 1.4-7 % of the light
    label = np.dstack([ink, paper, np.ones_like(ink)])
    if per_module < 8:
        label = cv2.resize(label, (sharp.shape[0] // 8 * per_module,) * 2, interpolation=cv2.INTER_AREA)
    side = label.shape[0]
    radius = side * rng.uniform(0.45, 1.5) if rng.random() < 0.35 else np.inf  # a bottle, seen side-on
    half = radius * np.sin(side / (2 * radius)) if np.isfinite(radius) else side / 2  # its bent half width
    flat = np.array([[-half, -side / 2], [half, -side / 2], [half, side / 2], [-half, side / 2]], np.float64)
    # The camera: the label tilted by up to 45 degrees about a random axis, seen through a pinhole at focal f.
    tilt, axis = np.deg2rad(rng.uniform(0, 45)), rng.uniform(0, 2 * np.pi)
    rotation3 = cv2.Rodrigues(np.array([np.cos(axis), np.sin(axis), 0.0]) * tilt)[0]
    points = np.c_[flat, np.zeros(4)] @ rotation3.T
    focal = side * np.exp(rng.uniform(np.log(1.2), np.log(12)))
    seen = points[:, :2] * (focal / (focal + points[:, 2:]))
    angle = rng.uniform(0, 2 * np.pi)  # the whole circle: a phone holds no code upright
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    corners = seen @ turn.T * (module_px / per_module) + centre
    homography = cv2.getPerspectiveTransform(flat.astype(np.float32), corners.astype(np.float32))
    # Pull each scene pixel of the label's bounding box back to the label (inverse homography, then unbend).
    h, w = scene.shape[:2]
    x0, y0 = np.clip(np.floor(corners.min(axis=0)).astype(int) - 1, 0, (w, h))
    x1, y1 = np.clip(np.ceil(corners.max(axis=0)).astype(int) + 2, 0, (w, h))
    if x1 <= x0 or y1 <= y0:
        return corners
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    back = np.linalg.inv(homography) @ np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)])
    bx, by = back[0] / back[2], back[1] / back[2]
    u = radius * np.arcsin(np.clip(bx / radius, -1, 1)) if np.isfinite(radius) else bx
    u = np.where(np.abs(bx) <= half, u, -side)  # beyond the bottle's silhouette: outside the label
    map_x = (u + side / 2 - 0.5).reshape(xs.shape).astype(np.float32)
    map_y = (by + side / 2 - 0.5).reshape(xs.shape).astype(np.float32)
    ink, paper, inside = np.moveaxis(cv2.remap(label, map_x, map_y, cv2.INTER_LINEAR, borderValue=0), 2, 0)
    dark, light = _ink_and_paper(rng, "photo")
    rgb = (dark + ink[..., None] * (light - dark)) * paper[..., None]
    # Light over the label: a tilted plane (brighter one side), dim to bright rooms, then glare in 30 %.
    ramp_y, ramp_x = (np.linspace(-0.5, 0.5, n, dtype=np.float32) for n in (y1 - y0, x1 - x0))
    gx, gy = rng.uniform(-0.5, 0.5, 2).astype(np.float32)
    rgb = rgb * ((1 + gx * ramp_x[None, :] + gy * ramp_y[:, None]) * np.float32(rng.uniform(0.7, 1.15)))[..., None]
    if rng.random() < 0.3:  # a specular spot: the label's gloss reflects a lamp, washing modules towards white
        cx, cy = rng.uniform(-0.4, 0.4, 2)
        spread, strength = rng.uniform(0.08, 0.35), rng.uniform(0.2, 0.7)
        glare = strength * np.exp(-((ramp_x[None, :] - cx) ** 2 + (ramp_y[:, None] - cy) ** 2) / (2 * spread ** 2))
        rgb = rgb * (1 - glare[..., None]) + glare[..., None]
    window = scene[y0:y1, x0:x1]
    window[:] = window * (1 - inside[..., None]) + np.clip(rgb, 0, 1) * inside[..., None]
    return corners
