"""What a run record says (issue "third hostile pass", items 6 and 7).

- One rule for the architecture of a weights file (``models.registry.architecture``): what its ``run.json``
  describes, the bundled 16 x 64 pixel-shuffle x4 generator for anything it leaves out; ``qrsr train --init``
  and every loader follow it, and ``qrsr train`` loads and checks its ``--init`` before it writes anything.
- A bad architecture value in a ``run.json`` (``Config`` validates it: tests/test_config.py) is a ``BadFile``
  naming that file and the field, in every command.
- A run folder whose ``run.json`` is corrupt, not an object, or records another architecture is refused in
  one line and left as it was.

CLI cases run ``qrsr`` as a subprocess (exit 2, one line on stderr, no traceback, nothing written).
"""

from __future__ import annotations

import json
import shutil
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from support import assert_one_clean_error, qrsr
from test_config import BAD_ARCHITECTURE

from qrsr_helpers.config import get_config
from qrsr_helpers.errors import BadFile

BUNDLED = Path(__file__).resolve().parents[1] / "qrsr_helpers" / "weights" / "srresnet_16x64.weights.h5"
BUNDLED_ARCHITECTURE = dict(n_res_blocks=16, filters=64, upsampling="pixel_shuffle", channels=3, scale=4)
one_error_alone = partial(assert_one_clean_error, alone=True)  # stderr holds that one line and nothing else


def undescribed_copy(source: Path, folder: Path, name: str = "my") -> Path:
    """``source`` copied to ``folder/NAME.weights.h5`` with no run.json anywhere near it."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / f"{name}.weights.h5"
    shutil.copyfile(source, copy)
    from qrsr_helpers.models.registry import describe_path

    assert describe_path(copy) is None, describe_path(copy)
    return copy


def png(path: Path) -> Path:
    from qrsr_helpers.io import write_image

    write_image(path, np.full((48, 48), 255, np.uint8))
    return path


# --- one rule for an undescribed weights file ---------------------------------------------------------------------


def test_an_undescribed_file_is_the_bundled_16x64_generator_for_every_caller(tmp_path):
    from qrsr_helpers.models.registry import architecture, config_for_weights

    copy = undescribed_copy(BUNDLED, tmp_path / "w")
    assert architecture(copy) == BUNDLED_ARCHITECTURE
    for profile in ("smoke", "cpu", "gpu"):  # what qrsr train --init builds is what the loader builds
        config = get_config(profile, **architecture(copy))
        assert {name: getattr(config, name) for name in BUNDLED_ARCHITECTURE} == BUNDLED_ARCHITECTURE
    assert {name: getattr(config_for_weights(copy), name) for name in BUNDLED_ARCHITECTURE} == BUNDLED_ARCHITECTURE


def test_fields_a_description_leaves_out_are_the_bundled_generators(tmp_path):
    from qrsr_helpers.models.registry import architecture

    copy = undescribed_copy(BUNDLED, tmp_path / "w")
    copy.with_name("my.run.json").write_text(json.dumps({"architecture": {"n_res_blocks": 1, "filters": 8}}))
    assert architecture(copy) == {**BUNDLED_ARCHITECTURE, "n_res_blocks": 1, "filters": 8}
    assert get_config("cpu", **architecture(copy)).filters == 8  # not the profile's 32, not the default's 64


@pytest.mark.parametrize(("field", "value"), BAD_ARCHITECTURE)
def test_a_bad_run_json_is_a_bad_file_naming_it_and_the_field(tmp_path, field, value):
    from qrsr_helpers.models.registry import architecture, config_for_weights

    weights = tmp_path / "my.weights.h5"
    weights.write_bytes(b"not read")
    description = tmp_path / "my.run.json"
    description.write_text(json.dumps({"architecture": {field: value}}))
    for call in (architecture, config_for_weights):
        with pytest.raises(BadFile) as caught:
            call(weights)
        assert str(caught.value).startswith(str(description)) and f"{field}=" in str(caught.value)


def _bad_description_cases() -> list:
    """(field, value) pairs the CLI tests send: one of each kind (the unit tests above take all of them)."""
    return [("filters", "abc"), ("n_res_blocks", -1), ("filters", 0), ("n_res_blocks", 10**12),
            ("upsampling", "bicubic"), ("channels", 2), ("scale", 3), ("channels", True), ("filters", 64.5)]


@pytest.mark.parametrize(("field", "value"), _bad_description_cases())
def test_enhance_with_a_bad_run_json_names_it_and_the_field(tmp_path, field, value):
    weights = undescribed_copy(BUNDLED, tmp_path / "w")
    description = weights.with_name("my.run.json")
    description.write_text(json.dumps({"architecture": {**BUNDLED_ARCHITECTURE, field: value}}))
    image = png(tmp_path / "some.png")
    result = qrsr("enhance", image, "--weights", weights)
    one_error_alone(result, 2, str(description), f"{field}=")
    assert not list(tmp_path.glob("some.x4*"))


@pytest.mark.parametrize(("field", "value"), _bad_description_cases())
def test_train_init_with_a_bad_run_json_names_it_and_writes_nothing(tmp_path, field, value):
    weights = undescribed_copy(BUNDLED, tmp_path / "w")
    description = weights.with_name("my.run.json")
    description.write_text(json.dumps({"architecture": {**BUNDLED_ARCHITECTURE, field: value}}))
    out = tmp_path / "run"
    result = qrsr("train", "--profile", "smoke", "--stage", "pretrain", "--epochs", "1", "--init", weights,
                  "--out", out, env={"QRSR_DATA_DIR": str(tmp_path / "data")})
    one_error_alone(result, 2, str(description), f"{field}=")
    assert not out.exists() or not any(out.iterdir())


# --- qrsr train --init: checked before anything is written ------------------------------------------------------


@pytest.mark.slow
def test_an_undescribed_copy_of_the_bundled_file_trains_and_records_16x64(tmp_path):
    weights = undescribed_copy(BUNDLED, tmp_path / "w")
    out = tmp_path / "run"
    result = qrsr("train", "--profile", "smoke", "--stage", "pretrain", "--epochs", "1", "--init", weights,
                  "--out", out, env={"QRSR_DATA_DIR": str(tmp_path / "data")})
    assert result.returncode == 0, result.stderr[-3000:]
    info = json.loads((out / "run.json").read_text())
    assert info["architecture"] == BUNDLED_ARCHITECTURE and info["finished_stages"] == ["pretrain"]
    from qrsr_helpers.models import load_pretrained

    assert load_pretrained(out / "generator_pretrain.weights.h5", "keras").count_params() == 1554883


def test_init_weights_of_another_architecture_fail_in_one_line_before_run_json(tmp_path, tiny_weights):
    lonely = undescribed_copy(tiny_weights, tmp_path / "w", "lonely")  # 1 x 8, nothing says so
    out = tmp_path / "run"
    result = qrsr("train", "--profile", "smoke", "--stage", "pretrain", "--epochs", "1", "--init", lonely,
                  "--out", out, env={"QRSR_DATA_DIR": str(tmp_path / "data")})
    line = one_error_alone(result, 2, str(lonely), "16x64", "run.json")
    assert "UserWarning" not in result.stderr and "Skipping" not in result.stderr, line
    assert not out.exists()


def test_init_weights_with_nan_fail_in_one_line_before_run_json(tmp_path, nan_weights):
    out = tmp_path / "run"
    result = qrsr("train", "--profile", "smoke", "--stage", "pretrain", "--init", nan_weights,
                  "--out", out, env={"QRSR_DATA_DIR": str(tmp_path / "data")})
    one_error_alone(result, 2, "nan.weights.h5", "NaN")
    assert not out.exists()


# --- a run folder's run.json ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "fragment"), [
    ("{not json", "run.json"),
    ("[1, 2]", "run.json"),
    ('{"finished_stages": 5}', "finished_stages"),
    (json.dumps({"architecture": BUNDLED_ARCHITECTURE}), "n_res_blocks"),  # not what --profile smoke builds
])
def test_train_into_a_folder_with_a_bad_or_foreign_run_json_is_refused(tmp_path, text, fragment):
    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text(text)
    result = qrsr("train", "--profile", "smoke", "--stage", "pretrain", "--epochs", "1", "--out", out,
                  env={"QRSR_DATA_DIR": str(tmp_path / "data")})
    one_error_alone(result, 2, str(out / "run.json"), fragment)
    assert (out / "run.json").read_text() == text
    assert sorted(p.name for p in out.iterdir()) == ["run.json"]
