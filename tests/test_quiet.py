"""TensorFlow's C++ start-up chatter is filtered from stderr; anything else it writes is passed on."""

import os
import subprocess
import sys

from qrsr_helpers.quiet import filtered_stderr


def test_importing_tensorflow_through_the_package_is_silent():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    code = ("import qrsr_helpers, keras, tensorflow as tf; tf.constant(1) + 1; tf.config.list_physical_devices();"
            "tf.function(lambda: tf.constant(1.0) + 1.0, jit_compile=True)()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and done.stderr == "", done.stderr


def test_the_filter_passes_on_what_is_not_chatter(capfd):
    with filtered_stderr():
        os.write(2, b"I0000 00:00:1795792271.100159   12418 port.cc:153] oneDNN custom operations are on.\n")
        os.write(2, b"a real problem\n")
        os.write(2, b"E0000 00:00:1795792272.704622   12418 x.cc:1] another error\n")
    err = capfd.readouterr().err
    assert err == "a real problem\nE0000 00:00:1795792272.704622   12418 x.cc:1] another error\n"
