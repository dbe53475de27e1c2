"""Fixtures shared by the CLI tests."""

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
