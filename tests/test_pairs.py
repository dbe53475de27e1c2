"""Pairs: seeding independent of the worker count, the cache named by every knob and rebuilt when broken."""

import subprocess
import sys

import numpy as np
import pytest
from support import ENV

from qrsr_helpers.config import get_config
from qrsr_helpers.data.pairs import generate_pairs, load_or_generate


def test_grey_and_other_sizes():
    pairs = generate_pairs(3, seed=1, degradation="realistic", hr_size=64, scale=2, channels=1)
    assert pairs.hr.shape == (3, 64, 64, 1) and pairs.lr.shape == (3, 32, 32, 1)


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


def test_corrupt_data_cache_is_rebuilt_with_a_note(tmp_path):
    env = {**ENV, "QRSR_DATA_DIR": str(tmp_path)}
    run = lambda: subprocess.run([sys.executable, "-m", "qrsr_helpers.cli", "data", "--profile", "smoke", "--n", "8"],
                                 capture_output=True, text=True, env=env, timeout=120)
    assert run().returncode == 0
    [cache] = tmp_path.glob("pairs_train_8_*.npz")
    cache.write_bytes(cache.read_bytes()[:100])
    again = run()
    assert again.returncode == 0, again.stderr[-2000:]
    assert "unreadable" in again.stdout and cache.name in again.stdout
    assert len(np.load(cache, allow_pickle=False)["hr"]) == 8


def test_concurrent_data_runs_share_no_temporary_file(tmp_path):
    env = {**ENV, "QRSR_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "qrsr_helpers.cli", "data", "--profile", "smoke", "--n", "40"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(3)]
    results = [r.communicate(timeout=180) for r in runs]
    assert [r.returncode for r in runs] == [0, 0, 0], [e[-1500:] for _, e in results]
    assert len(list(tmp_path.glob("pairs_train_40_*.npz"))) == 1 and not list(tmp_path.glob(".tmp-*"))
