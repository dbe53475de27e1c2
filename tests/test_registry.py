"""models.registry: what a weights name means, what a run.json says, and loading a generator (refusing broken,
diverged or undescribed files in one line)."""

from pathlib import Path

import pytest
from support import assert_one_clean_error, code_image, qrsr

from qrsr_helpers.errors import BadFile
from qrsr_helpers.io import write_image


def _broken_weights(tmp_path: Path, tiny_weights: Path) -> dict[str, Path]:
    good = tiny_weights.read_bytes()
    cases = {"empty": b"", "text": b"these are not weights\n", "truncated": good[: len(good) // 2]}
    flipped = bytearray(good)
    for i in range(8, 4096):  # past the signature: the superblock and the first object headers
        flipped[i] ^= 0xFF
    cases["bitflip"] = bytes(flipped)
    files = {}
    for name, data in cases.items():
        files[name] = tmp_path / f"{name}.weights.h5"
        files[name].write_bytes(data)
        (tmp_path / f"{name}.run.json").write_text(tiny_weights.with_name("tiny.run.json").read_text())
    return files


def test_broken_weights_are_one_line_exit_2(tmp_path, tiny_weights):
    image, _ = code_image()
    write_image(tmp_path / "code.png", image)
    for path in _broken_weights(tmp_path, tiny_weights).values():
        result = qrsr("enhance", tmp_path / "code.png", "--weights", path)
        assert_one_clean_error(result, 2, str(path))
    h5 = tmp_path / "model.h5"  # a valid weights file under a name Keras 3 does not load as weights
    h5.write_bytes(tiny_weights.read_bytes())
    assert_one_clean_error(qrsr("evaluate", "--upscaler", h5, "--n", "2"), 2, "model.h5", ".weights.h5")


def test_nan_weights_are_refused_at_load(tmp_path, nan_weights):
    from qrsr_helpers.errors import BadFile
    from qrsr_helpers.models import load_pretrained

    with pytest.raises(BadFile, match="NaN"):
        load_pretrained(nan_weights)
    image, _ = code_image()
    write_image(tmp_path / "code.png", image)
    assert_one_clean_error(qrsr("enhance", tmp_path / "code.png", "--weights", nan_weights), 2, "NaN")


def test_weights_of_an_unknown_architecture_say_how_to_describe_them(tmp_path, tiny_weights):
    lonely = tmp_path / "lonely.weights.h5"
    lonely.write_bytes(tiny_weights.read_bytes())  # no run.json anywhere near it
    image, _ = code_image()
    write_image(tmp_path / "code.png", image)
    line = assert_one_clean_error(qrsr("enhance", tmp_path / "code.png", "--weights", lonely), 2, "lonely.weights.h5")
    assert "run.json" in line


def test_pretrained_means_the_default_bundled_generator_everywhere():
    from qrsr_helpers import load_pretrained

    assert load_pretrained("pretrained") is load_pretrained("srresnet") is load_pretrained()


@pytest.mark.parametrize("data", [b"{not json", b"[1, 2]", b'"a string"', b"\xff\xfe{}"])
def test_read_and_write_run_info_refuse_a_corrupt_run_json(tmp_path, data):
    from qrsr_helpers.models.registry import read_run_info, write_run_info

    record = tmp_path / "run.json"
    record.write_bytes(data)
    for call in (lambda: read_run_info(tmp_path), lambda: write_run_info(tmp_path, stage="pretrain")):
        with pytest.raises(BadFile) as caught:
            call()
        assert str(caught.value).startswith(str(record)) and "\n" not in str(caught.value)
    assert record.read_bytes() == data  # left as it was: it may be all that says what the run is


def test_read_run_info_of_a_new_folder_is_empty_and_write_merges(tmp_path):
    from qrsr_helpers.models.registry import read_run_info, write_run_info

    assert read_run_info(tmp_path / "none") == {}
    write_run_info(tmp_path, stage="pretrain")
    write_run_info(tmp_path, finished_stages=["pretrain"])
    assert read_run_info(tmp_path) == {"stage": "pretrain", "finished_stages": ["pretrain"]}
