"""The package's exceptions: one small hierarchy, so a front end needs one ``except`` per kind.

- :class:`InvalidArgument` — a value the caller chose is wrong (a profile name, ``--n -5``); the message
  names the value and what is allowed.
- :class:`BadFile` — a file cannot be read or written (a corrupt image, weights of an unknown
  architecture, a read-only folder); the message starts with the file's name.
- :class:`TrainingDiverged` — a loss became NaN or infinite; nothing was saved after it.

All derive from :class:`QrsrError`; the ``qrsr`` command prints any of them as one line and exits 2.
``InvalidArgument`` and ``BadFile`` are also ``ValueError`` (and ``BadFile`` an ``OSError`` would be
too broad: it is raised for files that exist but hold the wrong thing).
"""

from __future__ import annotations


class QrsrError(Exception):
    """Base of every error this package raises on purpose."""


class InvalidArgument(QrsrError, ValueError):
    """A value given by the user or the caller is not allowed; the message says which and why."""


class BadFile(QrsrError, ValueError):
    """A file (image, weights, cache, output) cannot be used; the message starts with its path.
    ``reason`` is a short category (e.g. ``unreadable or corrupt``) for reports that group failures."""

    def __init__(self, message: str, reason: str = "bad file"):
        super().__init__(message)
        self.reason = reason


class TrainingDiverged(QrsrError, RuntimeError):
    """A loss became NaN or infinite; nothing was saved as "latest" after it."""


class QrsrWarning(UserWarning):
    """Something the user should know that does not stop the work (e.g. the fast path fell back to Keras,
    and why); the ``qrsr`` command prints it as one ``note:`` line."""


def error_line(error: BaseException, limit: int = 160) -> str:
    """The first useful line of an exception's message, for a one-line report: the whole message can be a
    traceback-sized text (h5py, OpenVINO). OpenVINO's open with "Exception from src/...cpp:84:" and "Check ...
    failed at": the line after them. An empty message gives the exception's type name."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith(("Exception from", "Check ", "[ GENERAL_ERROR ]"))]
    return ((useful or lines or [type(error).__name__])[0])[:limit]


def printable(text: str) -> str:
    """``text`` safe to show on a terminal: control and format characters (a file name may hold an escape
    sequence, a right-to-left override or a newline) and undecodable file-name bytes (``\udcff``, from a
    name that is not UTF-8) are shown as escapes (``\x1b``, ``\n``, ``\xff``); letters of any script stay."""
    def one(ch: str) -> str:
        if ch.isprintable():
            return ch
        if 0xDC80 <= ord(ch) <= 0xDCFF:  # a byte os.fsdecode could not decode (surrogateescape)
            return f"\\x{ord(ch) - 0xDC00:02x}"
        return ascii(ch)[1:-1]

    return "".join(map(one, text))
