"""Decoders behind one function. zxing-cpp (what most apps embed) and OpenCV read different codes, so every evaluation
reports both; each read's text follows one policy (:mod:`qrsr_helpers.payload`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import cv2
import numpy as np
import zxingcpp

from .io import to_rgb
from .payload import Read, eci_segments, payload_read, reencoded_read, segments_read

READERS = ("zxing", "opencv", "cascade")  # cascade: what the product reports (read_cascade)
MIN_SYMBOL_PX = 40  # in a x4 image: a real code's modules are >= ~2.4 px (0.6 LR px), so even version 1 spans > 50


@dataclass(frozen=True)
class DecodeResult:
    decoder: str
    reads: tuple[Read, ...] = ()  # every payload the decoder read

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(read.text for read in self.reads)

    def matches(self, payload: str) -> bool:
        return any(read.text == payload and not read.binary for read in self.reads)

    @property
    def ok(self) -> bool:
        return bool(self.reads)


def to_gray_uint8(image: np.ndarray) -> np.ndarray:
    """8-bit luminance of gray, RGB or RGBA (:func:`io.to_rgb`), any dtype in [0, 255] or [0, 1]."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(image * (255.0 if image.max(initial=0) <= 1.0 else 1.0), 0, 255).round().astype(np.uint8)
    if image.ndim == 3:
        image = cv2.cvtColor(to_rgb(image), cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(image)


def decode(image: np.ndarray, decoder: str = "zxing", min_side: float = 0.0) -> DecodeResult:
    """Every QR code at least ``min_side`` px wide in ``image``, as ``decoder`` (one of :data:`READERS`) reads it."""
    read = {"zxing": zxing_reads, "opencv": _opencv,
            "cascade": lambda g, side: read_cascade(g, max(side, MIN_SYMBOL_PX))}
    if decoder not in read:
        raise ValueError(f"decoder={decoder!r} is not one of {list(READERS)}")
    return DecodeResult(decoder, read[decoder](to_gray_uint8(image), min_side))


def decode_all(image: np.ndarray, enhanced: bool = False, min_side: float = 0.0) -> dict[str, DecodeResult]:
    """What every decoder reads; the cascade only in an ``enhanced`` (x4) image: it refuses symbols too small there."""
    return {decoder: decode(image, decoder, min_side) for decoder in READERS if enhanced or decoder != "cascade"}


def _side(corners) -> float:
    x, y = np.asarray(corners, np.float64).reshape(4, 2).T
    return float(np.sqrt(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2))


def zxing_corners(barcode: zxingcpp.Barcode) -> np.ndarray:
    """A zxing-cpp symbol's outer corners: top-left, top-right, bottom-right, bottom-left, (4, 2) in pixels."""
    p = barcode.position
    return np.array([(c.x, c.y) for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)], np.float64)


def zxing_reads(gray: np.ndarray, min_side: float = 0.0) -> tuple[Read, ...]:
    """Valid zxing reads of symbols at least ``min_side`` px wide; the ``HexECI`` text says which ECI, if any."""
    found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.HexECI)
    return tuple(_zxing_read(r) for r in found if r.valid and (not min_side or _side(zxing_corners(r)) >= min_side))


def _zxing_read(barcode: zxingcpp.Barcode) -> Read:
    segments = eci_segments(bytes.fromhex(barcode.text))
    return payload_read(barcode.bytes) if segments is None else segments_read(barcode.bytes, segments)


def read_cascade(gray: np.ndarray, min_side: float = MIN_SYMBOL_PX) -> tuple[Read, ...]:
    """How the product reads a x4 image, cheapest look first: zxing on the image, on its Otsu binarisation (a global
    threshold where zxing's local one splits a blurred module), its contrast stretch, then OpenCV (23.0 -> 24.2 % of
    realistic codes read, benchmarks/decode_levers.py); symbols under ``min_side`` refused: every misread was one."""
    for look in (gray, cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1], contrast_stretched(gray)):
        if reads := zxing_reads(look, min_side):
            return reads
    return _opencv(gray, min_side)


def contrast_stretched(gray: np.ndarray) -> np.ndarray:
    lo, hi = np.percentile(gray, (2, 98))
    return np.clip((gray.astype(np.float32) - lo) * (255.0 / max(hi - lo, 1.0)), 0, 255).astype(np.uint8)


def _opencv(gray: np.ndarray, min_side: float = 0.0) -> tuple[Read, ...]:
    """OpenCV's read of a symbol at least ``min_side`` px wide. From bytes: ``detectAndDecode``'s text is UTF-8 only
    and stops at a NUL; with a white margin: the detector misses codes that touch the border. A fresh detector (1 us)
    a call: one is not thread-safe, and its ``getEncoding`` keeps reporting its first code's (OpenCV 4.14)."""
    padded = cv2.copyMakeBorder(gray, 8, 8, 8, 8, cv2.BORDER_CONSTANT, value=255)
    detector = cv2.QRCodeDetector()
    try:
        data, points, _ = detector.detectAndDecodeBytes(padded)
    except cv2.error:
        return ()
    side = _side(points) if points is not None and np.size(points) == 8 else 0.0
    return (_opencv_read(data, int(detector.getEncoding())),) if data and side >= min_side else ()


def decode_outcomes(images: np.ndarray, payloads: list[str], decoder: str = "zxing") -> tuple[np.ndarray, np.ndarray]:
    """Did ``decoder`` read exactly ``payloads[i]`` from ``images[i]``, and did it misread (read only other
    payloads: worse than no read)? In threads: decoding is C++ that releases the GIL."""
    if len(images) != len(payloads):
        raise ValueError(f"{len(images)} images but {len(payloads)} payloads")
    with ThreadPoolExecutor() as pool:
        results = list(pool.map(lambda image: decode(image, decoder), images))
    matched = np.array([r.matches(p) for r, p in zip(results, payloads)], dtype=bool)
    return matched, np.array([r.ok for r in results], dtype=bool) & ~matched


def decode_matches(images: np.ndarray, payloads: list[str], decoder: str = "zxing") -> np.ndarray:
    return decode_outcomes(images, payloads, decoder)[0]


def _opencv_read(data: bytes, eci: int) -> Read:
    """The payload policy on OpenCV's bytes and ECI (0: none; ASCII needs none)."""
    if data.isascii():
        return payload_read(data)
    if eci == 0:
        return reencoded_read(data)
    read = payload_read(data, eci)
    if eci == 20 and not read.binary:  # OpenCV says 20 for ECI 20 and for Kanji mode alike
        return replace(read, charset="Shift_JIS", rule="Kanji mode or ECI 20")
    return read

