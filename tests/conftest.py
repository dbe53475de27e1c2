"""Fixtures shared by the CLI, inference and ladder tests."""

import json

import pytest


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    """A random 1-block, 8-filter generator with its ``.run.json``: enhances in milliseconds, decodes nothing."""
    from qrsr_helpers.models import build_generator

    folder = tmp_path_factory.mktemp("tiny")
    architecture = dict(n_res_blocks=1, filters=8, upsampling="pixel_shuffle", channels=3)
    build_generator(n_upscale=2, **architecture).save_weights(folder / "tiny.weights.h5")
    (folder / "tiny.run.json").write_text(json.dumps({"architecture": architecture}))
    return folder / "tiny.weights.h5"


@pytest.fixture(scope="module")
def nearest_x4():
    """A model whose exact output is known: nearest-neighbour x4. Tiling must reproduce it bit for bit."""
    import keras

    return keras.Sequential([keras.Input((None, None, 3)), keras.layers.UpSampling2D(4)])


@pytest.fixture
def nan_weights(tmp_path, tiny_weights):
    """The tiny generator with every weight NaN (what a diverged run saves), described by its run.json."""
    import numpy as np

    from qrsr_helpers.models import build_generator

    architecture = json.loads(tiny_weights.with_name("tiny.run.json").read_text())["architecture"]
    generator = build_generator(n_upscale=2, **architecture)
    generator.set_weights([np.full_like(w, np.nan) for w in generator.get_weights()])
    generator.save_weights(tmp_path / "nan.weights.h5")
    (tmp_path / "nan.run.json").write_text(json.dumps({"architecture": architecture}))
    return tmp_path / "nan.weights.h5"
