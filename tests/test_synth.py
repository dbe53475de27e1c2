"""Synthetic pairs: shapes, seeding (independent of worker count), caching, and HR codes that decode."""

import numpy as np
import pytest
import segno

from qrsr_helpers.config import get_config
from qrsr_helpers.data.synth import EC_LEVELS, generate_pairs, load_or_generate, random_code
from qrsr_helpers.decode import decode_matches


@pytest.mark.parametrize("style", ["clean", "realistic", "wild"])
def test_pair_shapes_dtypes_and_metadata(style):
    pairs = generate_pairs(6, seed=1, degradation=style, max_version=3)
    assert pairs.hr.shape == (6, 128, 128, 3) and pairs.lr.shape == (6, 32, 32, 3)
    assert pairs.hr.dtype == pairs.lr.dtype == np.uint8
    assert pairs.styles == [style] * 6 and len(pairs.payloads) == len(pairs.errors) == 6
    assert set(pairs.versions.tolist()) <= {1, 2, 3} and set(pairs.errors) <= set(EC_LEVELS)
    assert pairs.hr.min() < 80 and pairs.hr.max() > 170  # dark modules and light paper, not a blank image


def test_grey_and_other_sizes():
    pairs = generate_pairs(3, seed=1, degradation="realistic", hr_size=64, scale=2, channels=1)
    assert pairs.hr.shape == (3, 64, 64, 1) and pairs.lr.shape == (3, 32, 32, 1)


def test_clean_hr_is_the_tutorial_black_and_white_code():
    pairs = generate_pairs(4, seed=2, degradation="clean")
    assert (pairs.hr[..., 0] == pairs.hr[..., 2]).all()  # grey stored as RGB
    assert (pairs.hr[:, :4] == 255).all()  # the quiet zone (4 modules > 4 px) is white


def test_same_seed_same_bytes_other_seed_other_codes():
    first, again = generate_pairs(8, seed=5), generate_pairs(8, seed=5)
    other = generate_pairs(8, seed=6)
    np.testing.assert_array_equal(first.hr, again.hr)
    np.testing.assert_array_equal(first.lr, again.lr)
    assert first.payloads == again.payloads
    assert not np.array_equal(first.hr, other.hr) and first.payloads != other.payloads


def test_result_does_not_depend_on_the_number_of_workers():
    mix = (("clean", 0.3), ("realistic", 0.7))
    serial = generate_pairs(130, seed=9, degradation=mix, workers=1)
    parallel = generate_pairs(130, seed=9, degradation=mix, workers=2)  # 3 chunks over 2 spawned processes
    np.testing.assert_array_equal(serial.hr, parallel.hr)
    np.testing.assert_array_equal(serial.lr, parallel.lr)
    assert serial.payloads == parallel.payloads and serial.styles == parallel.styles
    assert set(serial.styles) == {"clean", "realistic"}


def test_version_is_the_smallest_that_holds_the_payload():
    rng = np.random.default_rng(0)
    for _ in range(40):
        code = random_code(rng, max_version=6)
        assert segno.make_qr(code.payload, error=code.error, boost_error=False).version == code.version
        assert code.matrix.shape == (17 + 4 * code.version,) * 2


def test_min_version_draws_only_the_larger_codes():
    pairs = generate_pairs(12, seed=3, degradation="realistic", min_version=3, workers=1)
    assert set(pairs.versions.tolist()) <= {3, 4} and len(set(pairs.versions.tolist())) == 2
    with pytest.raises(ValueError, match="min_version=5"):
        generate_pairs(4, seed=3, min_version=5)


def test_bad_count_is_refused():
    with pytest.raises(ValueError, match="n=0"):
        generate_pairs(0, seed=1)


def test_load_or_generate_caches_by_every_knob(tmp_path):
    config = get_config("smoke", data_dir=str(tmp_path))
    first = load_or_generate(config, "eval", n=5)
    assert len(list(tmp_path.glob("pairs_eval_5_*.npz"))) == 1
    again = load_or_generate(config, "eval", n=5)
    np.testing.assert_array_equal(first.hr, again.hr)
    assert first.payloads == again.payloads and first.styles == again.styles
    load_or_generate(config.replace(hr_size=64, scale=2), "eval", n=5)  # another knob: another file
    assert len(list(tmp_path.glob("pairs_eval_5_*.npz"))) == 2
    train = load_or_generate(config, "train", n=5)
    assert train.payloads != first.payloads  # the eval seed is not the training seed
    with pytest.raises(ValueError, match="purpose='test'"):
        load_or_generate(config, "test")


@pytest.mark.parametrize("style", ["clean", "realistic"])
def test_hr_codes_decode_with_zxing(style):
    """The target images themselves must be readable, or decode rate measures nothing."""
    pairs = generate_pairs(300, seed=31, degradation=style)
    rate = decode_matches(pairs.hr, pairs.payloads, "zxing").mean()
    assert rate >= 0.995, f"only {rate:.1%} of {style} HR codes decode"
