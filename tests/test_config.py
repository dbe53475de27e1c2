"""The profile choice (explicit > $QRSR_PROFILE > the devices) and the config's validation."""

from __future__ import annotations

import re

import numpy as np
import pytest

from qrsr_helpers import config
from qrsr_helpers.config import Config, ConfigError, get_config

NO_DEVICES = {"GPU": 0, "TPU": 0}


def _no_tensorflow():
    raise AssertionError("devices were asked for although the profile was already decided")


@pytest.mark.parametrize("explicit, environ, devices, expected", [
    ("cpu", {"QRSR_PROFILE": "smoke"}, {"GPU": 1}, ("cpu", "set in the parameters cell")),
    (None, {"QRSR_PROFILE": " smoke "}, {"GPU": 1}, ("smoke", "from $QRSR_PROFILE")),
    (None, {"QRSR_PROFILE": ""}, {"GPU": 2, "TPU": 0}, ("gpu", "a GPU is present")),
    (None, {}, {"TPU": 8}, ("gpu", "a TPU is present")),
    (None, {}, {"GPU": 0, "TPU": 0}, ("cpu", "no GPU or TPU found")),
    (None, {}, {}, ("cpu", "no GPU or TPU found")),
])
def test_profile_choice_order(monkeypatch, explicit, environ, devices, expected):
    assert config.profile_choice(explicit, environ, devices) == expected
    if explicit or environ.get("QRSR_PROFILE", "").strip():
        monkeypatch.setattr("qrsr_helpers.environment.accelerators", _no_tensorflow)  # decided without TensorFlow
        assert config.profile_choice(explicit, environ) == expected


def test_profile_choice_asks_tensorflow_only_when_it_decides(monkeypatch):
    monkeypatch.setattr("qrsr_helpers.environment.accelerators", lambda: {"GPU": 1, "TPU": 0})
    assert config.profile_choice(None, {})[0] == "gpu"
    monkeypatch.delenv("QRSR_PROFILE")
    assert get_config(None).profile == "gpu"  # get_config's default is this choice


@pytest.mark.parametrize("explicit, environ, named", [
    ("tpu", {}, "'tpu' (set in the parameters cell)"),
    (None, {"QRSR_PROFILE": "GPU"}, "'GPU' (from $QRSR_PROFILE)"),
])
def test_unknown_profile_is_named_with_its_source(explicit, environ, named):
    with pytest.raises(ConfigError, match=re.escape(f"profile={named} is not one of")):
        config.profile_choice(explicit, environ, NO_DEVICES)


BAD_ARCHITECTURE = [
    ("n_res_blocks", "abc"), ("n_res_blocks", -1), ("n_res_blocks", 65), ("n_res_blocks", 10**30),
    ("n_res_blocks", True), ("n_res_blocks", 16.0), ("n_res_blocks", None),
    ("filters", "abc"), ("filters", -1), ("filters", 0), ("filters", 513), ("filters", 10**30), ("filters", True),
    ("filters", 64.5), ("filters", [64]),
    ("upsampling", "bicubic"), ("upsampling", 1), ("upsampling", None), ("upsampling", ["pixel_shuffle"]),
    ("channels", 2), ("channels", 0), ("channels", True), ("channels", 3.0), ("channels", "3"),
    ("scale", 3), ("scale", 0), ("scale", -4), ("scale", 16), ("scale", 4.0), ("scale", True), ("scale", "4"),
]


@pytest.mark.parametrize(("field", "value"), BAD_ARCHITECTURE)
def test_config_refuses_a_bad_architecture_value_naming_the_field(field, value):
    with pytest.raises(ConfigError) as caught:
        Config(**{field: value})
    message = str(caught.value)
    assert f"{field}=" in message and "\n" not in message and len(message) < 200, message


@pytest.mark.parametrize("changes", [
    dict(n_res_blocks=0), dict(n_res_blocks=64), dict(filters=1), dict(filters=512), dict(channels=1),
    dict(scale=2), dict(scale=8), dict(upsampling="nearest"), dict(n_res_blocks=np.int64(6), filters=np.int32(32)),
])
def test_config_accepts_every_architecture_in_range(changes):
    assert Config(**changes)


def test_get_config_refuses_unknown_fields_and_takes_the_data_folder_from_the_environment(monkeypatch):
    with pytest.raises(ConfigError, match=re.escape("unknown config field(s): ['n_code']")):
        get_config("smoke", n_code=3)
    monkeypatch.setenv("QRSR_DATA_DIR", "/elsewhere")
    assert get_config("smoke").data_dir == "/elsewhere" and get_config("smoke", data_dir="x").data_dir == "x"
