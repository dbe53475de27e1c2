"""TensorFlow's start-up chatter kept out of notebook outputs and CLI stderr. ``TF_CPP_MIN_LOG_LEVEL=3`` silences its
C++ logs once absl is initialised, not what ``import tensorflow`` writes to fd 2 before (oneDNN, CUDA stubs)."""

from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import tempfile
import warnings
from contextlib import contextmanager

NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)"
                   r"|[IW]\d{4} [\d:.]+ +\d+ \S+:\d+\]"  # absl info/warning lines
                   r"|To enable the following instructions:)")  # cpu_feature_guard's second line


@contextmanager
def filtered_stderr():
    """Route file descriptor 2 to a temporary file for the block, then pass on what is not :data:`NOISE`."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):  # no file descriptor 2 (pythonw): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not NOISE.match(line)))
            sys.stderr.flush()


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once: the real spec, from the other finders
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader.exec_module = filtered_stderr()(spec.loader.exec_module)  # a context manager as decorator
        return spec


def install() -> None:
    """From the first ``import tensorflow`` on: no start-up chatter, no C++ notices (a real failure raises in Python),
    no retracing warnings (many shapes are the tutorial's normal case), no "cannot shuffle" (the pipeline shuffles)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="`shuffle=True` was passed", category=UserWarning)
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietTensorFlow) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlow())
