"""Which generator a name means (``srresnet``, ``srgan``, ``pretrained`` or a ``.weights.h5`` file), its architecture
(the one reader and writer of ``run.json``) and loading it."""

from __future__ import annotations

import json
import os
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..config import Config
from ..errors import BadFile, InvalidArgument, QrsrWarning, error_line
from ..io import atomic_path
from .exported import ExportedGenerator, choose_precision, setting

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
BUNDLED = {"srresnet": "srresnet_16x64", "srgan": "srgan_16x64"}
ARCHITECTURE_FIELDS = ("n_res_blocks", "filters", "upsampling", "channels", "scale")
WEIGHTS_SUFFIX = ".weights.h5"
HOW_TO_DESCRIBE = ('write NAME.run.json beside it holding {"architecture": {"n_res_blocks": 6, "filters": 32, '
                   '"upsampling": "pixel_shuffle", "channels": 3}} (the values it was trained with)')
START_OVER = "repair it, or move it away to start this run folder over"


def bundled_path(model: str) -> Path:
    return WEIGHTS_DIR / f"{BUNDLED[model]}{WEIGHTS_SUFFIX}"


def weights_path(spec: str | os.PathLike | None) -> Path:
    text = "srresnet" if spec is None or str(spec) == "pretrained" else str(spec)
    if not text.strip():
        raise InvalidArgument(f"empty weights name: use one of {[*BUNDLED]}, 'pretrained' or a {WEIGHTS_SUFFIX} file")
    path = bundled_path(text) if text in BUNDLED else Path(text).expanduser()
    if not path.is_file():
        why = (f"the bundled generator {text!r} is not installed (reinstall qrsr)" if text in BUNDLED else
               "not a weights file" if path.exists() else "no such file")
        raise BadFile(f"{path}: {why}", "missing")
    if not path.name.endswith(WEIGHTS_SUFFIX):
        raise BadFile(f"{path}: generator weights are Keras {WEIGHTS_SUFFIX} files (as qrsr train writes them)",
                      "wrong format")
    return path


def describe_path(weights: Path) -> Path | None:
    """``NAME.run.json`` beside ``weights``, else a run folder's ``run.json`` (up to two levels up: checkpoints)."""
    candidates = [weights.with_name(weights.name.removesuffix(WEIGHTS_SUFFIX) + ".run.json")]
    candidates += [folder / "run.json" for folder in list(weights.resolve().parents)[:3]]
    return next((c for c in candidates if c.is_file()), None)


def read_run_info(out_dir: str | os.PathLike) -> dict:
    """A run folder's ``run.json`` (``{}`` when none); a bad one is refused, never replaced: it may be all that
    says which architecture the folder's weights have."""
    path = Path(out_dir) / "run.json"
    return _run_record(path, START_OVER) if path.exists() else {}


def _run_record(path: Path, remedy: str) -> dict:
    """The one parser of run records (a folder's ``run.json``, a weights file's ``NAME.run.json``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:  # ValueError: not UTF-8, not JSON
        raise BadFile(f"{path}: not a readable run record ({type(error).__name__}: {error_line(error, 80)}); "
                      f"{remedy}", "bad description") from None
    if not isinstance(data, dict):
        kind = {str: "string", bool: "boolean", type(None): "null", list: "list"}.get(type(data), "number")
        raise BadFile(f"{path}: holds a JSON {kind}, not a run record (a JSON object); {remedy}", "bad description")
    return data


def write_run_info(out_dir: str | os.PathLike, **info) -> Path:
    path, data = Path(out_dir) / "run.json", {**read_run_info(out_dir), **info}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    return path


def architecture_info(config: Config) -> dict:
    return {name: getattr(config, name) for name in ARCHITECTURE_FIELDS}


def architecture(weights: str | os.PathLike) -> dict:
    """A weights file's :data:`ARCHITECTURE_FIELDS` as its description records them, else the bundled 16 x 64's."""
    info = describe_path(Path(weights))
    recorded = {}
    if info is not None:
        recorded = _run_record(info, HOW_TO_DESCRIBE).get("architecture")
        if not isinstance(recorded, dict):
            raise BadFile(f"{info}: has no \"architecture\" entry; {HOW_TO_DESCRIBE}", "bad description")
    try:
        config = Config(**{key: recorded[key] for key in ARCHITECTURE_FIELDS if key in recorded})
    except InvalidArgument as error:
        raise BadFile(f"{info}: its \"architecture\" entry does not describe a generator: {error}",
                      "bad description") from None
    return architecture_info(config)


def generator_from_config(config: Config, name: str = "generator"):
    """The only place that maps config fields to the generator's builder."""
    from .generator import build_generator

    return build_generator(n_res_blocks=config.n_res_blocks, n_upscale=config.n_upscale, upsampling=config.upsampling,
                           channels=config.channels, filters=config.filters, name=name)


def config_for_weights(weights: str | os.PathLike) -> Config:
    return Config(**architecture(weights))


@lru_cache(maxsize=8)
def _cached(load, *args, versions: tuple):
    """``load(*args)`` once per version (mtime, size) of the files it reads: a rewritten file is loaded again."""
    return load(*args)


def _load_keras(path: str):
    import h5py

    weights = Path(path)
    if not h5py.is_hdf5(weights):
        raise BadFile(f"{weights}: not a Keras weights file (empty, truncated or another format)",
                      "unreadable or corrupt")
    generator = generator_from_config(config_for_weights(weights), name=weights.name.split(".")[0])
    try:
        # Keras warns per layer it cannot match (89 lines for a file of another size) and may leave such layers
        # freshly initialised: any of those warnings means the file does not fit.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            generator.load_weights(weights)
        skipped = [str(w.message) for w in caught if "Skipping" in str(w.message) or "not be loaded" in str(w.message)]
        if skipped:
            raise ValueError(skipped[0])
    except Exception as error:  # h5py/Keras raise OSError, ValueError, KeyError... for a file that does not fit
        if describe_path(weights) is None:
            raise BadFile(f"{weights}: does not load as the bundled 16x64 generator and nothing describes its "
                          f"architecture; {HOW_TO_DESCRIBE}", "unknown architecture") from None
        raise BadFile(f"{weights}: does not load as the architecture {describe_path(weights)} describes "
                      f"({type(error).__name__}: {error_line(error, 120)})", "unreadable or corrupt") from None
    if not all(np.isfinite(w).all() for w in generator.get_weights()):
        raise BadFile(f"{weights}: holds NaN or infinite values (saved from a diverged run?); use an earlier "
                      "checkpoint", "diverged")
    return generator


def export_path(weights: Path) -> Path:
    return weights.with_name(weights.name.removesuffix(WEIGHTS_SUFFIX) + ".onnx")


def choose_backend(path: Path, backend: str | None = None) -> str:
    """``auto``: ONNX for a bundled generator (a learner's own export is not checked against its weights by tests)."""
    asked = setting("backend", backend)
    exported = export_path(path).is_file()
    if asked == "onnx" and not exported:
        raise InvalidArgument(f"{path}: no ONNX export beside it ({export_path(path).name}); write one with "
                              "python scripts/export_onnx.py, or use --backend keras")
    return asked if asked != "auto" else "onnx" if exported and path.parent == WEIGHTS_DIR.resolve() else "keras"


def runtime_label(generator) -> str:
    """How a loaded generator runs, as commands print it: ``OpenVINO bf16`` or ``Keras (tensorflow)``."""
    if getattr(generator, "precision", None):
        return f"OpenVINO {generator.precision}"
    import keras

    return f"Keras ({keras.backend.backend()})"


def _version(path: Path) -> tuple[int, int]:
    return (stat := path.stat()).st_mtime_ns, stat.st_size


def load_pretrained(weights: str | os.PathLike | None = None, backend: str | None = "keras",
                    precision: str | None = None):
    """The generator ``weights`` names (pixels in [0, 1]), cached per file version. ``backend``: ``keras`` (the model
    a learner inspects), ``onnx`` (its export on OpenVINO) or ``auto`` (the export where one ships and works)."""
    path = weights_path(weights).resolve()
    asked, precision = setting("backend", backend), setting("precision", precision)
    if choose_backend(path, asked) == "onnx":
        export = export_path(path)
        try:
            return _cached(ExportedGenerator, str(export), choose_precision(precision), str(path),
                           config_for_weights(path).scale, versions=(_version(export), _version(path)))
        except Exception as error:  # noqa: BLE001 - any failure of the fast path: OpenVINO, the file, its checks
            why = str(error) if isinstance(error, BadFile) else \
                f"{export}: OpenVINO failed ({type(error).__name__}: {error_line(error)})"
            if asked == "onnx":
                raise BadFile(why, "export unusable") from None
            warnings.warn(f"not using the ONNX export, running the Keras model: {why}", QrsrWarning, stacklevel=2)
    return _cached(_load_keras, str(path), versions=_version(path))
