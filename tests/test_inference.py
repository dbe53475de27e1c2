"""inference: super_resolve on batches, the Enhancer's tiles, kinds and files, in-process, mostly with a
nearest-neighbour "generator" whose right answer is known exactly."""

import os

import cv2
import numpy as np
import pytest
from support import code_image, qr_code

from qrsr_helpers.decode import decode
from qrsr_helpers.errors import InvalidArgument
from qrsr_helpers.inference import SHARP_MODULE_PX, Enhancer, super_resolve
from qrsr_helpers.io import read_image, to_rgb, write_image


def _nearest(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return cv2.resize(image, (w * 4, h * 4), interpolation=cv2.INTER_NEAREST)


RNG = np.random.default_rng(7)
GRAY = RNG.integers(0, 256, (23, 31), dtype=np.uint8)
RGB = RNG.integers(0, 256, (23, 31, 3), dtype=np.uint8)
RGBA = RNG.integers(1, 256, (23, 31, 4), dtype=np.uint8)  # no alpha 0: lossless WebP may drop colour under it


def test_tiles_cover_the_image_exactly(nearest_x4):
    image = RNG.integers(0, 256, (150, 97, 3), dtype=np.uint8)  # sizes that no tile divides
    for tile in (40, 64, 200):
        np.testing.assert_array_equal(Enhancer(nearest_x4, tile=tile).enhance(image), _nearest(image))


def test_enhance_keeps_the_kind(nearest_x4):
    enhance = Enhancer(nearest_x4, tile=40).enhance
    gray = enhance(GRAY)
    assert gray.shape == (92, 124) and gray.dtype == np.uint8
    np.testing.assert_array_equal(gray, _nearest(GRAY))
    rgba = enhance(RGBA)
    # issue 12: colour under transparency is composited over white paper (ink only in alpha is still ink)
    np.testing.assert_array_equal(rgba[..., :3], _nearest(to_rgb(RGBA)))
    opaque = RGBA.copy()
    opaque[..., 3] = 255
    assert (enhance(opaque)[..., 3] == 255).all()
    with pytest.raises(ValueError, match="uint8"):
        enhance(RGB.astype(np.float32))
    with pytest.raises(InvalidArgument, match="tile=16"):
        Enhancer(nearest_x4, tile=16)


def test_self_ensemble_averages_the_eight_transforms_back_into_place():
    """A generator that is not rotation-equivariant (it adds a left-to-right ramp): the ensemble output is the
    mean of the 8 turned-back outputs, which for this generator is the input plus the ramp's mean everywhere."""
    class Ramp:
        def __call__(self, x, training=False):
            ramp = np.linspace(0.0, 0.2, x.shape[2], dtype=np.float32)[None, None, :, None]
            return np.repeat(np.repeat(x, 4, axis=1), 4, axis=2) + np.repeat(ramp, 4, axis=2)

        def predict(self, x, batch_size=64, verbose=0):
            return self(x)

    lr = np.random.default_rng(1).integers(0, 200, (2, 6, 6, 3)).astype(np.uint8)
    plain, averaged = super_resolve(Ramp(), lr), super_resolve(Ramp(), lr, ensemble=True)
    base = np.repeat(np.repeat(lr.astype(np.float32) / 255.0, 4, axis=1), 4, axis=2)
    expected = np.round(np.clip(base + 0.1, 0, 1) * 255).astype(np.uint8)  # the ramp averages to its mean
    assert np.abs(averaged.astype(int) - expected).max() <= 1
    assert np.abs(plain.astype(int) - expected).max() > 10  # without the ensemble the ramp shows


def test_super_resolve_clips_a_generator_that_overshoots():
    """Generators overshoot [0, 1] at sharp edges; the uint8 result must saturate there, never wrap around."""
    lr = np.array([[[[0], [255]], [[128], [64]]]], np.uint8).repeat(3, axis=-1)
    overshoot = lambda x, training=False: np.repeat(np.repeat(3.0 * np.asarray(x) - 1.0, 4, axis=1), 4, axis=2)
    sr = super_resolve(overshoot, lr, eager=True)
    assert sr.dtype == np.uint8 and sr.shape == (1, 8, 8, 3)
    assert sr[0, 0, 0, 0] == 0 and sr[0, 0, 4, 0] == 255  # -1.0 -> 0 and 2.0 -> 255, not 0
    assert sr[0, 4, 0, 0] == round((3 * 128 / 255 - 1) * 255)  # in range: unchanged


def test_super_resolve_refuses_what_is_not_a_uint8_batch_and_a_wrong_scale():
    x4 = lambda x, training=False: np.repeat(np.repeat(np.asarray(x), 4, axis=1), 4, axis=2)
    for bad in (np.zeros((1, 4, 4, 3), np.float32), np.zeros((4, 4, 3), np.uint8)):
        with pytest.raises(ValueError, match=r"uint8 NHWC batch, got (float32|uint8) with shape"):
            super_resolve(x4, bad, eager=True)
    class Shrinks:  # x4 on the 4 x 4 probe that measures the scale, x2 on anything else
        input_shape = (None, None, None, 3)

        def __call__(self, x, training=False):
            k = 4 if x.shape[1] == 4 else 2
            return np.repeat(np.repeat(np.asarray(x), k, axis=1), k, axis=2)

    with pytest.raises(ValueError, match="turned 5x7 into 10x14, not x4"):
        Enhancer(Shrinks()).enhance(np.zeros((5, 7, 3), np.uint8))
    nan = lambda x, training=False: np.full(np.repeat(np.repeat(np.asarray(x), 4, 1), 4, 2).shape, np.nan)
    with pytest.raises(ValueError, match="NaN or infinite"):
        super_resolve(nan, np.zeros((1, 2, 2, 3), np.uint8), eager=True)


def test_enhance_edge_cases_in_the_api(tmp_path, nearest_x4):
    from qrsr_helpers.data.folder import load_folder

    enhance = Enhancer(nearest_x4).enhance
    with pytest.raises(ValueError, match="empty"):
        enhance(np.zeros((0, 5, 3), np.uint8))
    image, payload = code_image(px=6)
    ink_in_alpha = np.dstack([np.zeros(image.shape + (3,), np.uint8), 255 - image])  # black, shaped by alpha
    out = enhance(ink_in_alpha)
    assert decode(out, "zxing").texts == (payload,)  # composited over white, as decoders see it
    folder = tmp_path / "folder"
    write_image(folder / "code.png", np.kron(image, np.ones((2, 2), np.uint8)))
    os.mkfifo(folder / "pipe.png")  # reading it would block for ever
    pairs, report = load_folder(folder)
    assert len(pairs) == 1 and any(name == "pipe.png" for name, _ in report.skipped)


@pytest.mark.parametrize("module_px", [1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 8.0, 10.0])
def test_a_code_that_reads_before_enhancing_reads_after_it(tmp_path, module_px):
    enhance_file = Enhancer().enhance_file
    lost = []
    for i in range(4):
        payload = f"https://example.org/{int(module_px * 10)}/{i}"
        image = np.pad(qr_code(payload, module_px), 12, constant_values=255)
        write_image(tmp_path / f"{i}.png", image)
        result = enhance_file(tmp_path / f"{i}.png", tmp_path / f"{i}.x4.png")
        after = decode(read_image(result.output), "cascade").texts
        if payload in decode(image, "zxing").texts and payload not in after:
            lost.append(i)
        if module_px >= SHARP_MODULE_PX + 0.5:
            assert any("already" in note and "px per module" in note for note in result.notes), result.notes
    assert not lost, f"{module_px} px/module: codes {lost} read before enhancing and not after"


def test_a_code_filling_the_image_is_not_called_missing(tmp_path):
    write_image(tmp_path / "big.png", qr_code("https://example.org/big", 2.0, border=1))
    text = Enhancer().enhance_file(tmp_path / "big.png", tmp_path / "big.x4.png").describe()
    assert "no code found" not in text and "covering most of the image" in text, text


def test_library_settings_are_checked_whatever_the_backend():
    from qrsr_helpers import load_pretrained

    with pytest.raises(InvalidArgument, match="'bogus'"):
        load_pretrained(precision="bogus")
    with pytest.raises(InvalidArgument, match="'bogus'"):
        load_pretrained(backend="bogus")
    image = qr_code("https://example.org/by-name", 1.6)
    assert Enhancer("srgan").enhance(image).shape == (image.shape[0] * 4, image.shape[1] * 4)
