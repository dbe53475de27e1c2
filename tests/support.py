"""What several test files share: ``qrsr`` run as a user runs it (a subprocess, and what its stderr must look
like) and hostile files.

Exit status: 0 done, 1 nothing decoded, 2 bad input or argument, 130 interrupted; a bad input is one line
naming the file or value, never a traceback."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def qrsr(*args, cwd=None, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    """``python -m qrsr_helpers.cli ARGS`` (output decoded leniently: file names may not be UTF-8)."""
    return subprocess.run([sys.executable, "-m", "qrsr_helpers.cli", *map(str, args)], capture_output=True,
                          text=True, errors="replace", timeout=timeout, env={**ENV, **(env or {})}, cwd=cwd)


def our_lines(result) -> list[str]:
    """stderr without TensorFlow's start-up chatter (absl lines it prints before any setting applies)."""
    noise = ("WARNING: All log messages before absl", "I0000", "W0000", "E0000")
    return [line for line in result.stderr.splitlines() if line.strip() and not line.startswith(noise)]


def assert_one_clean_error(result, status: int, *fragments: str, alone: bool = False) -> str:
    """Exit ``status``, no traceback, an error line holding every fragment (``alone``: and nothing else on
    stderr); returns the first error line."""
    assert result.returncode == status, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = our_lines(result)
    errors = [line for line in lines if ": error: " in line]
    assert errors, result.stderr[-3000:]
    if alone:
        assert len(errors) == 1 and len(lines) == 1, result.stderr[-3000:]
    for fragment in fragments:
        assert any(fragment in line for line in errors), (fragment, errors)
    return errors[0]


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A tiny file that claims width x height (a decompression bomb's header)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    body = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return path


def code_image(seed: int = 1, px: int = 4):
    """A random version-1 code, ``px`` pixels per module, and its payload."""
    import numpy as np

    from qrsr_helpers.data.synth import random_code, render_code

    code = random_code(np.random.default_rng(seed), max_version=1)
    return np.round(render_code(code.matrix, (code.modules + 8) * px) * 255).astype(np.uint8), code.payload


def qr_code(text: str, module_px: float, border: int = 4):
    """A code of ``text`` at ``module_px`` pixels per module (area-resampled from a sharp rendering)."""
    import cv2
    import numpy as np
    import segno

    matrix = np.array(segno.make_qr(text, error="m").matrix, np.uint8)
    sharp = np.kron(np.pad((1 - matrix) * 255, border, constant_values=255), np.ones((16, 16))).astype(np.uint8)
    side = int(round(sharp.shape[0] / 16 * module_px))
    return cv2.resize(sharp, (side, side), interpolation=cv2.INTER_AREA)
