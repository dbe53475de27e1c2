"""Test setup shared by unit tests and notebooks: every notebook kernel nbval starts inherits
QRSR_PROFILE=smoke, so CI runs each lesson in seconds; generated data goes to a temporary folder."""

import os
import tempfile

os.environ["QRSR_PROFILE"] = "smoke"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("QRSR_DATA_DIR", tempfile.mkdtemp(prefix="qrsr-test-data-"))
