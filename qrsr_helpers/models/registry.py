"""Which generator a name means, what architecture a weights file holds, and loading it.

One place parses every way a user names a generator — ``srresnet`` / ``srgan`` (the bundled ones),
``pretrained`` (the default bundled one) or a path to a ``.weights.h5`` file — and one place knows
an architecture: the ``Config`` fields in :data:`ARCHITECTURE_FIELDS`. A weights file's architecture
comes from JSON beside it, as config overrides: ``NAME.run.json`` next to ``NAME.weights.h5`` (the
bundled files), else the ``run.json`` that ``qrsr train`` writes into its run folder (looked for in
the file's folder and two levels up, for ``checkpoints/<stage>/`` files).
"""

from __future__ import annotations

import json
import os
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..config import BACKEND_ENV, BACKENDS, Config
from ..errors import BadFile, InvalidArgument, QrsrWarning, error_line

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
BUNDLED = {"srresnet": "srresnet_16x64", "srgan": "srgan_16x64"}
DEFAULT_MODEL = "srresnet"
ARCHITECTURE_FIELDS = ("n_res_blocks", "filters", "upsampling", "channels", "scale")
WEIGHTS_SUFFIX = ".weights.h5"
HOW_TO_DESCRIBE = ('write NAME.run.json beside it holding {"architecture": {"n_res_blocks": 6, "filters": 32, '
                   '"upsampling": "pixel_shuffle", "channels": 3}} (the values it was trained with)')


def bundled_path(model: str = DEFAULT_MODEL) -> Path:
    """The weights file of a bundled model (``srresnet`` | ``srgan``)."""
    if model not in BUNDLED:
        raise InvalidArgument(f"bundled model {model!r} is not one of {list(BUNDLED)}")
    return WEIGHTS_DIR / f"{BUNDLED[model]}{WEIGHTS_SUFFIX}"


def weights_path(spec: str | os.PathLike | None) -> Path:
    """The weights file a user means: ``None``/``pretrained`` (the default bundled model),
    ``srresnet`` | ``srgan``, or a path to an existing ``.weights.h5`` file."""
    text = DEFAULT_MODEL if spec is None or str(spec) == "pretrained" else str(spec)
    if text in BUNDLED:
        path = bundled_path(text)
        if not path.is_file():
            raise BadFile(f"{path}: the bundled generator {text!r} is not installed (reinstall qrsr)", "missing")
        return path
    path = Path(text).expanduser()
    if not text.strip():
        raise InvalidArgument(f"empty weights name: use one of {list(BUNDLED)}, 'pretrained' or a "
                              f"{WEIGHTS_SUFFIX} file")
    if not path.exists():
        raise BadFile(f"{path}: no such file", "missing")
    if not path.is_file():
        raise BadFile(f"{path}: not a weights file", "missing")
    if not path.name.endswith(WEIGHTS_SUFFIX):
        raise BadFile(f"{path}: generator weights are Keras {WEIGHTS_SUFFIX} files (as qrsr train writes them)",
                      "wrong format")
    return path


def _stem(weights: Path) -> str:
    """``NAME`` of ``NAME.weights.h5`` (of any other file: its name without the last suffix)."""
    return weights.name[: -len(WEIGHTS_SUFFIX)] if weights.name.endswith(WEIGHTS_SUFFIX) else weights.stem


def describe_path(weights: Path) -> Path | None:
    """The JSON that describes ``weights``: ``NAME.run.json`` beside it, else a run folder's ``run.json``."""
    candidates = [weights.with_name(f"{_stem(weights)}.run.json")] + [folder / "run.json" for folder in
                                                            list(weights.resolve().parents)[:3]]
    return next((c for c in candidates if c.is_file()), None)


def architecture(weights: str | os.PathLike) -> dict:
    """The architecture of a weights file as ``Config`` overrides, every field of :data:`ARCHITECTURE_FIELDS`
    given: what its description records (see the module docstring), and for a field it leaves out -- or for a
    file nothing describes -- the bundled 16 x 64 pixel-shuffle x4 generator's (``Config``'s defaults). The one
    rule every loader and ``qrsr train --init`` follow; :func:`load_generator` says how to describe a file when
    it does not fit. A recorded value ``Config`` refuses (type or range) is a :class:`BadFile` naming the
    description and the field."""
    weights = Path(weights)
    info = describe_path(weights)
    recorded = {}
    if info is not None:
        try:
            recorded = json.loads(info.read_text(encoding="utf-8")).get("architecture")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as error:
            raise BadFile(f"{info}: not a readable run description ({type(error).__name__}); {HOW_TO_DESCRIBE}",
                          "bad description") from None
        if not isinstance(recorded, dict):
            raise BadFile(f"{info}: has no \"architecture\" entry; {HOW_TO_DESCRIBE}", "bad description")
    try:
        config = Config(**{key: recorded[key] for key in ARCHITECTURE_FIELDS if key in recorded})
    except InvalidArgument as error:
        raise BadFile(f"{info}: its \"architecture\" entry does not describe a generator: {error}",
                      "bad description") from None
    return {key: getattr(config, key) for key in ARCHITECTURE_FIELDS}


def generator_from_config(config: Config, name: str = "generator"):
    """The generator ``config`` describes (the only place that maps config fields to the builder)."""
    from .generator import build_generator

    return build_generator(n_res_blocks=config.n_res_blocks, n_upscale=config.n_upscale, upsampling=config.upsampling,
                           channels=config.channels, filters=config.filters, name=name)


def config_for_weights(weights: str | os.PathLike) -> Config:
    """A config whose generator fits ``weights``: its :func:`architecture` over the defaults."""
    return Config(**architecture(weights))


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int, size: int):
    import h5py

    weights = Path(path)
    if not h5py.is_hdf5(weights):
        raise BadFile(f"{weights}: not a Keras weights file (empty, truncated or another format)",
                      "unreadable or corrupt")
    generator = generator_from_config(config_for_weights(weights), name=weights.name.split(".")[0])
    try:
        # Keras warns once per layer it cannot match ("Skipping nested container ...": 89 lines for a file of
        # another size) before it raises, and would leave such layers freshly initialised if it did not: the
        # warnings are caught, and any of them means the file does not fit.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            generator.load_weights(weights)
        skipped = [str(w.message) for w in caught if "Skipping" in str(w.message) or "not be loaded" in str(w.message)]
        if skipped:
            raise ValueError(skipped[0])
    except Exception as error:  # h5py/Keras raise OSError, ValueError, KeyError... for a file that does not fit
        first = error_line(error, 120)
        if describe_path(weights) is None:
            raise BadFile(f"{weights}: does not load as the bundled 16x64 generator and nothing describes its "
                          f"architecture; {HOW_TO_DESCRIBE}", "unknown architecture") from None
        raise BadFile(f"{weights}: does not load as the architecture {describe_path(weights)} describes "
                      f"({type(error).__name__}: {first})", "unreadable or corrupt") from None
    if not all(np.isfinite(w).all() for w in generator.get_weights()):
        raise BadFile(f"{weights}: holds NaN or infinite values (saved from a diverged run?); use an earlier "
                      "checkpoint", "diverged")
    return generator


def export_path(weights: Path) -> Path:
    """``NAME.onnx`` beside ``NAME.weights.h5``: its ONNX export (``scripts/export_onnx.py``)."""
    return weights.with_name(f"{_stem(weights)}.onnx")


def asked_backend(backend: str | None = None) -> str:
    """The backend asked for (argument, else ``$QRSR_BACKEND``, else ``auto``), checked."""
    asked = str(backend or os.environ.get(BACKEND_ENV) or "auto").lower()
    if asked not in BACKENDS:
        raise InvalidArgument(f"backend {asked!r} (${BACKEND_ENV} or --backend) is not one of {list(BACKENDS)}")
    return asked


def choose_backend(path: Path, backend: str | None = None) -> str:
    """``onnx`` or ``keras`` for the weights file ``path``: as asked (:func:`asked_backend`); ``auto`` means the
    ONNX export (no TensorFlow) for a bundled generator that ships one, Keras otherwise: a learner's own
    ``.weights.h5`` has no export the tests check against it. Whether the export is usable is known only when
    it loads (:func:`load_runtime`)."""
    asked = asked_backend(backend)
    exported = export_path(path).is_file()
    if asked == "onnx" and not exported:
        raise InvalidArgument(f"{path}: no ONNX export beside it ({export_path(path).name}); write one with "
                              "python scripts/export_onnx.py, or use --backend keras")
    if asked == "auto":
        return "onnx" if exported and path.parent == WEIGHTS_DIR.resolve() else "keras"
    return asked


def runtime_label(generator) -> str:
    """How a loaded generator runs, for what commands print: ``OpenVINO bf16`` or ``Keras (tensorflow)``."""
    precision = getattr(generator, "precision", None)
    if precision:
        return f"OpenVINO {precision}"
    import keras

    return f"Keras ({keras.backend.backend()})"


@lru_cache(maxsize=4)
def _load_exported(path: str, version: tuple, weights: str, weights_version: tuple, precision: str, scale: int):
    from .exported import ExportedGenerator

    return ExportedGenerator(path, precision, weights, scale)


def _version(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


def load_runtime(weights: str | os.PathLike | None = None, backend: str | None = None,
                 precision: str | None = None) -> tuple[object, str]:
    """The generator named by ``weights`` (see :func:`weights_path`) and, when ``auto`` meant its ONNX export
    but the export could not be used, why ("" otherwise). The export (``models.exported``, OpenVINO, no
    TensorFlow; in ``precision``) is used only when it carries its weights file's digest and computes
    finite x-scale outputs; else, with ``auto``, the Keras model runs (a broken OpenVINO install, a stale
    export, a corrupt file), and with ``onnx`` it is an error. Every setting is checked first, whatever
    the backend. Cached per file version: loading twice costs nothing, a rewritten file loads anew."""
    from .exported import asked_precision, choose_precision

    path = weights_path(weights).resolve()
    asked = asked_backend(backend)
    precision = asked_precision(precision)
    if choose_backend(path, asked) == "onnx":
        export = export_path(path)
        try:
            return _load_exported(str(export), _version(export), str(path), _version(path),
                                  choose_precision(precision), config_for_weights(path).scale), ""
        except Exception as error:  # noqa: BLE001 - any failure of the fast path: OpenVINO, the file, its checks
            why = str(error) if isinstance(error, BadFile) else \
                f"{export}: OpenVINO failed ({type(error).__name__}: {error_line(error)})"
            if asked == "onnx":
                raise BadFile(why, "export unusable") from None
            note = f"not using the ONNX export, running the Keras model: {why}"
    else:
        note = ""
    return _load(str(path), *_version(path)), note


def load_generator(weights: str | os.PathLike | None = None, backend: str | None = None,
                   precision: str | None = None):
    """The generator of :func:`load_runtime`; when ``auto`` fell back to Keras, a warning says why. Pixels in
    and out are in [0, 1]."""
    generator, note = load_runtime(weights, backend, precision)
    if note:
        warnings.warn(note, QrsrWarning, stacklevel=2)
    return generator


def load_pretrained(weights: str | os.PathLike | None = None, backend: str = "keras", precision: str | None = None):
    """The public ``qrsr_helpers.load_pretrained``: :func:`load_generator`, but the Keras model unless
    ``backend`` says otherwise: the model a learner inspects, evaluates and fine-tunes in the notebooks.
    ``enhance()`` and the commands take the fast path by themselves (``backend="auto"``)."""
    return load_generator(weights, backend, precision)
