"""Decoders behind one function: did the exact payload come back?

zxing-cpp (the decoder most apps embed) and OpenCV's ``QRCodeDetector`` see different things: a
code one of them reads the other may not, so every evaluation reports both.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

from .io import to_rgb

DECODERS = ("zxing", "opencv")


@dataclass(frozen=True)
class DecodeResult:
    decoder: str
    texts: tuple[str, ...]  # every payload the decoder read

    def matches(self, payload: str) -> bool:
        return payload in self.texts

    @property
    def ok(self) -> bool:
        return bool(self.texts)


def to_gray_uint8(image: np.ndarray) -> np.ndarray:
    """Decoders want 8-bit luminance: accept gray, RGB, RGBA (RGBA over white), any dtype in [0, 255] or [0, 1]."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.clip(image * (255.0 if image.max(initial=0) <= 1.0 else 1.0), 0, 255).round().astype(np.uint8)
    if image.ndim == 3:
        image = cv2.cvtColor(to_rgb(image), cv2.COLOR_RGB2GRAY)
    return np.ascontiguousarray(image)


def payload_text(data: bytes) -> str:
    """A payload's bytes as text: UTF-8, else Shift-JIS (QR's Kanji mode), else ISO-8859-1 (QR's default
    byte charset) when that is printable, else ``hex:`` and the bytes in hex (binary payloads)."""
    for encoding in ("utf-8", "shift_jis"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    latin = data.decode("latin-1")
    return latin if latin.isprintable() else "hex:" + data.hex()


def decode(image: np.ndarray, decoder: str = "zxing") -> DecodeResult:
    """Read every QR code in ``image`` with ``decoder`` (``zxing`` | ``opencv``)."""
    gray = to_gray_uint8(image)
    if decoder == "zxing":
        found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
        return DecodeResult("zxing", tuple(r.text for r in found if r.valid))
    if decoder == "opencv":
        # OpenCV's detector misses codes that touch the border: give it a white margin.
        padded = cv2.copyMakeBorder(gray, 8, 8, 8, 8, cv2.BORDER_CONSTANT, value=255)
        try:
            text, _, _ = _opencv_detector().detectAndDecode(padded)
        except UnicodeDecodeError:  # OpenCV decodes payload bytes as UTF-8 (Shift-JIS, Latin-1, binary fail)
            text = payload_text(_opencv_detector().detectAndDecodeBytes(padded)[0])
        except cv2.error:
            text = ""
        return DecodeResult("opencv", (text,) if text else ())
    raise ValueError(f"decoder={decoder!r} is not one of {list(DECODERS)}")


_THREAD_STATE = threading.local()


def _opencv_detector() -> cv2.QRCodeDetector:
    """One detector per thread (cv2.QRCodeDetector is not safe to share across threads), freed
    with its thread: a dict keyed by thread id grew by one detector per pool thread per call."""
    if not hasattr(_THREAD_STATE, "detector"):
        _THREAD_STATE.detector = cv2.QRCodeDetector()
    return _THREAD_STATE.detector


def decode_matches(images: np.ndarray, payloads: list[str], decoder: str = "zxing",
                   workers: int | None = None) -> np.ndarray:
    """Boolean array: did ``decoder`` read exactly ``payloads[i]`` from ``images[i]``?

    Decoding is per-image C++ work that releases the GIL, so threads use every core."""
    if len(images) != len(payloads):
        raise ValueError(f"{len(images)} images but {len(payloads)} payloads")
    workers = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(workers) as pool:
        return np.fromiter(pool.map(lambda i: decode(images[i], decoder).matches(payloads[i]), range(len(payloads))),
                           dtype=bool, count=len(payloads))
