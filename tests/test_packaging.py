"""The wheel an instructor uploads next to the notebooks (or to Drive) for the setup cell to install:
built from a copy of the sources, it holds every module and every data file, and `qrsr demo` runs from it
in a fresh environment where the checkout is not importable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "qrsr_helpers"
# The subprocesses must not find the checkout through the test run's environment.
ENV = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}


def package_files() -> set[str]:
    """Every file under qrsr_helpers/ a wheel must carry: modules and data (caches and hidden files aside)."""
    return {path.relative_to(ROOT).as_posix() for path in PACKAGE.rglob("*")
            if path.is_file() and path.suffix != ".pyc"
            and not any(part == "__pycache__" or part.startswith(".") for part in path.relative_to(ROOT).parts)}


def backend_installed() -> bool:
    """Whether this environment satisfies ``[build-system] requires`` (then the build needs no index)."""
    if tomllib is None:
        return False
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]
    for text in requires:
        requirement = Requirement(text)
        try:
            if version(requirement.name) not in requirement.specifier:
                return False
        except PackageNotFoundError:
            return False
    return True


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, env=ENV, timeout=300,
                          **kwargs)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`python -m pip wheel --no-deps -w dist .` (the README's command) on a copy of the sources, so the
    build's build/ and *.egg-info never land in the checkout and no stale build/ leaks into the wheel."""
    source, dist = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    for name in ["pyproject.toml", "README.md", *(p.name for p in ROOT.glob("LICEN[CS]E*"))]:
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))
    offline = backend_installed()  # else pip fetches the backend from the configured index (build isolation)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, source]
    result = run(command + (["--no-build-isolation"] if offline else []))
    if result.returncode and not offline and "setuptools" in result.stderr and (
            "No matching distribution" in result.stderr or "Could not find a version" in result.stderr):
        pytest.skip(f"the build backend is neither installed nor downloadable: {result.stderr.strip()[-300:]}")
    assert result.returncode == 0, result.stdout + result.stderr
    wheels = list(dist.glob("qrsr-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_holds_every_module_the_bundled_weights_and_the_model_card(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = package_files() - names
    assert not missing, f"not in the wheel (add them to [tool.setuptools.package-data]): {sorted(missing)}"
    weights = {name for name in names if name.startswith("qrsr_helpers/weights/")}
    assert {"qrsr_helpers/weights/MODEL_CARD.md", "qrsr_helpers/weights/srresnet_16x64.weights.h5",
            "qrsr_helpers/weights/srresnet_16x64.run.json"} <= weights
    assert all(name.removesuffix(".weights.h5") + ".run.json" in weights for name in weights if name.endswith(".h5"))
    info = wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info"
    assert "qrsr = qrsr_helpers.cli:main" in zipfile.ZipFile(wheel).read(f"{info}/entry_points.txt").decode()
    requires = [line for line in zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode().splitlines()
                if line.startswith("Requires-Dist: opencv")]
    # The plain OpenCV wheel (Colab has it); contrib only with the `benchmarks` extra.
    assert any(line.startswith("Requires-Dist: opencv-python-headless") for line in requires), requires
    assert all("extra == \"benchmarks\"" in line for line in requires if "contrib" in line), requires


def test_the_wheel_installed_in_a_fresh_environment_runs_qrsr_demo(wheel, tmp_path):
    """A new venv gets the wheel (--no-deps: nothing downloaded) and, after it, a .pth naming this
    environment's site-packages for TensorFlow and the rest. (``--system-site-packages`` would expose the
    base interpreter's packages, not this venv's.) A directory named in a .pth joins sys.path after the
    venv's own site-packages and its .pth files (this checkout's editable finder) are not run, so the
    wheel's copy is what imports; the __file__ check below proves it."""
    venv, work = tmp_path / "venv", tmp_path / "work"
    work.mkdir()
    assert run([sys.executable, "-m", "venv", "--without-pip", venv]).returncode == 0
    python = venv / "bin" / "python"
    installed = run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel])
    assert installed.returncode == 0, installed.stdout + installed.stderr
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    import site

    here = [path for path in site.getsitepackages() if Path(path).is_dir()]
    (purelib / "zz_test_environment.pth").write_text("\n".join(here) + "\n")

    where = run([python, "-c", "import qrsr_helpers; print(qrsr_helpers.__file__)"], cwd=work)
    assert where.returncode == 0, where.stderr
    imported = Path(where.stdout.strip())
    assert imported.is_relative_to(purelib / "qrsr_helpers"), f"imported {imported}, not the wheel's copy"
    assert not imported.is_relative_to(ROOT)

    figure = tmp_path / "demo.png"
    demo = run([venv / "bin" / "qrsr", "demo", "--n", 4, "--out", figure], cwd=work)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "srresnet" in demo.stdout and figure.stat().st_size > 10_000
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(work.iterdir()) == []  # nothing written into the working folder
