"""``qrsr demo``: the command end to end (subprocess, tiny generator), and the claim it exists to show:
on fresh realistic codes the bundled generator decodes more than bicubic does."""

from functools import partial

import pytest
from support import qrsr

from qrsr_helpers.cli.demo import compare_on_fresh_codes
from qrsr_helpers.io import read_image

qrsr_demo = partial(qrsr, "demo", timeout=600)


def test_demo_prints_the_table_and_writes_the_figure(tmp_path, tiny_weights):
    result = qrsr_demo("--n", 6, "--weights", tiny_weights, "--out", tmp_path / "fig" / "demo.png")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.split()[:1] in (["bicubic"],
                                                                                                        ["tiny"])}
    assert set(rows) == {"bicubic", "tiny"} and rows["tiny"][-1] == "6"  # n column
    assert "HR itself decodes: zxing" in result.stdout
    figure = read_image(tmp_path / "fig" / "demo.png")
    assert figure.ndim == 3 and figure.shape[0] > 400 and figure.shape[1] > 400
    assert [p.name for p in (tmp_path / "fig").iterdir()] == ["demo.png"]


@pytest.mark.parametrize("args, message", [
    (["--n", "0"], "--n 0: need at least one code"),
    (["--weights", "nope.weights.h5"], "--weights nope.weights.h5: no such file"),
])
def test_demo_bad_arguments(tmp_path, args, message):
    result = qrsr_demo(*args, "--out", tmp_path / "demo.png")
    assert result.returncode == 2 and result.stderr.strip() == f"qrsr demo: error: {message}"
    assert not (tmp_path / "demo.png").exists()


def test_bundled_generator_beats_bicubic_on_fresh_codes():
    result = compare_on_fresh_codes(n=40, seed=777_001)
    table = result.tables["overall"]
    sr, bicubic = table.loc["srresnet"], table.loc["bicubic"]
    assert sr["decode_rate_zxing"] >= bicubic["decode_rate_zxing"] + 0.1
    assert sr["psnr"] > bicubic["psnr"] and sr["ssim"] > bicubic["ssim"]
