"""The package's exceptions, one small hierarchy: a front end needs one ``except`` per kind, and the ``qrsr``
command prints any :class:`QrsrError` as one line and exits 2."""

from __future__ import annotations


class QrsrError(Exception):
    """Base of every error this package raises on purpose."""


class InvalidArgument(QrsrError, ValueError):
    """A value given by the user or the caller is not allowed; the message says which and why."""


class BadFile(QrsrError, ValueError):
    """A file (image, weights, cache, output) cannot be used; the message starts with its path, ``reason`` is a
    short category (``unreadable or corrupt``) for reports that group failures. Not an OSError: the file may exist."""

    def __init__(self, message: str, reason: str = "bad file"):
        super().__init__(message)
        self.reason = reason


class TrainingDiverged(QrsrError, RuntimeError):
    """A loss became NaN or infinite; nothing was saved as "latest" after it."""


class QrsrWarning(UserWarning):
    """Something the user should know that does not stop the work; ``qrsr`` prints it as one ``note:`` line."""


def error_line(error: BaseException, limit: int = 160) -> str:
    """The first useful line of an exception's message (h5py's and OpenVINO's are traceback-sized; OpenVINO's open
    with "Exception from src/...cpp:84:" and "Check ... failed at"), else the exception's type name."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith(("Exception from", "Check ", "[ GENERAL_ERROR ]"))]
    return ((useful or lines or [type(error).__name__])[0])[:limit]


def printable(text: str) -> str:
    """``text`` safe on a terminal: control and format characters (an escape sequence or newline in a file name) and
    undecodable file-name bytes (``\udcff``) shown as escapes (``\x1b``, ``\xff``); letters of any script stay."""
    byte = lambda ch: chr(ord(ch) - 0xDC00) if 0xDC80 <= ord(ch) <= 0xDCFF else ch  # os.fsdecode's surrogateescape
    return "".join(ch if ch.isprintable() else ascii(byte(ch))[1:-1] for ch in text)
