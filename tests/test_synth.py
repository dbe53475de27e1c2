"""Synthetic codes and scenes: every style renders a readable code, the version the smallest that holds the payload."""

import numpy as np
import pytest
import segno

from qrsr_helpers.data.pairs import generate_pairs
from qrsr_helpers.data.synth import EC_LEVELS, random_code
from qrsr_helpers.decode import decode_matches


@pytest.mark.parametrize("style", ["clean", "realistic", "wild"])
def test_pair_shapes_dtypes_and_metadata(style):
    pairs = generate_pairs(6, seed=1, degradation=style, max_version=3)
    assert pairs.hr.shape == (6, 128, 128, 3) and pairs.lr.shape == (6, 32, 32, 3)
    assert pairs.hr.dtype == pairs.lr.dtype == np.uint8
    assert pairs.styles == [style] * 6 and len(pairs.payloads) == len(pairs.errors) == 6
    assert set(pairs.versions.tolist()) <= {1, 2, 3} and set(pairs.errors) <= set(EC_LEVELS)
    assert pairs.hr.min() < 80 and pairs.hr.max() > 170  # dark modules and light paper, not a blank image


def test_clean_hr_is_the_tutorial_black_and_white_code():
    pairs = generate_pairs(4, seed=2, degradation="clean")
    assert (pairs.hr[..., 0] == pairs.hr[..., 2]).all()  # grey stored as RGB
    assert (pairs.hr[:, :4] == 255).all()  # the quiet zone (4 modules > 4 px) is white


def test_version_is_the_smallest_that_holds_the_payload():
    rng = np.random.default_rng(0)
    for _ in range(40):
        code = random_code(rng, max_version=6)
        assert segno.make_qr(code.payload, error=code.error, boost_error=False).version == code.version
        assert code.matrix.shape == (17 + 4 * code.version,) * 2


@pytest.mark.parametrize("style", ["clean", "realistic"])
def test_hr_codes_decode_with_zxing(style):
    """The target images themselves must be readable, or decode rate measures nothing."""
    pairs = generate_pairs(300, seed=31, degradation=style)
    rate = decode_matches(pairs.hr, pairs.payloads, "zxing").mean()
    assert rate >= 0.995, f"only {rate:.1%} of {style} HR codes decode"
