"""TensorFlow's start-up chatter, filtered where no setting reaches it.

At import and at device discovery TensorFlow's C++ code writes absl log lines straight to the
process's stderr (file descriptor 2) before any log level applies (``TF_CPP_MIN_LOG_LEVEL`` does not
stop them in TF 2.18+): oneDNN notices, CUDA stub messages, ``failed call to cuInit`` on a machine
without a GPU. They fill notebook outputs and make a one-line CLI error eight lines long.

:func:`install` (called by the package's ``__init__``) wraps the first ``import tensorflow``: during it
and during device discovery, file descriptor 2 points at a temporary file; afterwards every line
that is not such chatter is written back to stderr, so a real error is never hidden.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile
import warnings
from contextlib import contextmanager

NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)"
                   r"|[IW]\d{4} [\d:.]+ +\d+ \S+:\d+\]"  # absl info/warning lines
                   r"|E\d{4} [\d:.]+ +\d+ \S+:\d+\] failed call to cuInit"  # no GPU: not an error here
                   r"|To enable the following instructions:"  # cpu_feature_guard's second line
                   r")")


@contextmanager
def filtered_stderr():
    """Route file descriptor 2 to a temporary file for the block, then pass on what is not :data:`NOISE`."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, AttributeError, ValueError):  # no real stderr (embedded interpreters): nothing to filter
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
            kept = [line for line in capture.read().decode(errors="replace").splitlines(keepends=True)
                    if not NOISE.match(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with filtered_stderr():
            self.loader.exec_module(module)
            try:  # device discovery and XLA's platform start-up log here (cuInit), once per process
                module.get_logger().setLevel("ERROR")
                module.config.list_physical_devices()
                module.function(lambda: module.constant(1.0) + 1.0, jit_compile=True)()
            except Exception:  # noqa: BLE001 - a broken device setup is TensorFlow's to report later
                pass


class _QuietTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once: find the real spec with the other finders
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install() -> None:
    """Filter TensorFlow's start-up chatter from the first ``import tensorflow`` on (a no-op when it is
    already imported; ``QRSR_TF_CHATTER=1`` keeps it, for debugging a broken install). Also silenced:
    Keras' warning that ``fit(shuffle=True)`` cannot shuffle a ``tf.data`` set (ours are shuffled in
    the pipeline) and TensorFlow's Python-side "retracing" warnings (many models of many shapes are
    this tutorial's normal case); TensorFlow's Python errors still show."""
    # 3: also TensorFlow's C++ "errors" after start-up, which are Grappler notices (e.g. "remapper failed" for a
    # LeakyReLU it could not fuse; harmless); a real failure raises a Python exception whatever this says.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.filterwarnings("ignore", message="`shuffle=True` was passed", category=UserWarning)
    if "tensorflow" in sys.modules or os.environ.get("QRSR_TF_CHATTER") == "1":
        return
    if not any(isinstance(finder, _QuietTensorFlow) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlow())
