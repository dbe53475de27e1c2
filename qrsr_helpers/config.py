"""Every knob in one frozen dataclass, and the profiles smoke (CI, seconds), cpu (a laptop) and gpu (the tutorial's
scale). One `Config` flows from a notebook or `qrsr --profile` into every helper: none disagree on sizes or seeds."""

from __future__ import annotations

import dataclasses
import numbers
import os
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import InvalidArgument

PIXEL_LOSSES = ("l1", "mse", "l1+binary")  # losses.pixel_loss builds each
# How a generator runs (models.exported.setting), each also set by its variable (qrsr --backend / --precision set it).
BACKENDS, BACKEND_ENV = ("auto", "onnx", "keras"), "QRSR_BACKEND"
PRECISIONS, PRECISION_ENV = ("auto", "bf16", "fp32"), "QRSR_PRECISION"

PROFILES = ("smoke", "cpu", "gpu")
DEGRADATIONS = ("clean", "realistic", "wild", "photo", "shrunk")


class ConfigError(InvalidArgument):
    """A configuration value is invalid; the message names the field and the allowed values."""


@dataclass(frozen=True)
class Config:
    """All knobs. Derived sizes (``lr_size``) are properties so they can never drift apart."""

    profile: str = "cpu"
    hr_size: int = 128  # the tutorial's HR size
    scale: int = 4  # the tutorial's 128 -> 32
    channels: int = 3  # the tutorial trains on RGB
    n_codes: int = 2000
    max_version: int = 4  # QR versions 1..max_version
    quiet_zone: int = 4  # modules; the standard's quiet zone
    degradation: str = "realistic"  # clean (tutorial INTER_AREA) | realistic | wild | photo (phone-like, v1-10)
    train_mix: tuple[tuple[str, float], ...] = (("realistic", 0.5), ("wild", 0.35), ("clean", 0.15))
    data_seed: int = 2024
    eval_seed: int = 777_001  # never used for training data
    eval_codes: int = 500  # fresh codes per degradation a notebook judges with (500: about +-3 points)
    augment: bool = False  # the tutorial's ImageDataGenerator settings (augment.py)
    crop_size: int | None = None  # train on random aligned LR crops of this size (HR: x scale); None: whole images
    n_res_blocks: int = 16
    filters: int = 64
    upsampling: str = "pixel_shuffle"  # nearest (tutorial) | pixel_shuffle (paper)
    disc_filters: int = 64
    vgg_layer: str = "block3_conv4"  # the tutorial's layers[10]
    vgg_weights: str | None = "imagenet"  # "imagenet" | path to .h5 | None (random: architecture only)
    pixel_loss: str = "l1"  # one of PIXEL_LOSSES
    content_loss: str = "vgg"  # vgg | pixel | both  (GAN stage)
    adv_weight: float = 1e-3  # the tutorial's loss_weights=[1e-3, 1]
    content_weight: float = 1.0
    batch_size: int = 16
    learning_rate: float = 3e-4
    gan_learning_rate: float = 1e-4
    pretrain_epochs: int = 4  # with gan_epochs: a cap; a *_minutes budget usually stops a stage first
    gan_epochs: int = 2
    steps_per_epoch: int = 50
    pretrain_minutes: float | None = None  # wall-clock budget of stage 1 (cosine LR decay, then stop)
    gan_minutes: float | None = None  # and of stage 2
    ema_decay: float = 0.999
    checkpoint_every: int = 5  # epochs; the tutorial saved the generator every 5
    jit_compile: bool = True
    mixed_precision: str | None = None  # None | "mixed_float16" | "mixed_bfloat16"
    data_dir: str = "data/generated"  # QRSR_DATA_DIR overrides
    runs_dir: str = "runs"

    def __post_init__(self) -> None:
        for name, allowed in _ALLOWED.items():
            if not isinstance(allowed, range):
                _check_choice(name, getattr(self, name), allowed)
            elif not _is_whole(value := getattr(self, name)) or value not in allowed:
                raise ConfigError(f"{name}={_shown(value)} must be a whole number in {allowed[0]}..{allowed[-1]}")
        for name, _ in self.train_mix:
            _check_choice("train_mix degradation", name, DEGRADATIONS)
        if self.hr_size % self.scale:
            raise ConfigError(f"scale={self.scale} must divide hr_size={self.hr_size}")
        if self.crop_size is not None and not 4 <= self.crop_size <= self.lr_size:
            raise ConfigError(f"crop_size={self.crop_size} must be in 4..{self.lr_size} (the LR size) or None")
        if not 1 <= self.max_version <= 10:
            raise ConfigError(f"max_version={self.max_version} must be in 1..10")

    @property
    def gan_steps(self) -> int:  # stage 2's length (a ``gan_minutes`` budget may stop it earlier)
        return self.gan_epochs * self.steps_per_epoch

    @property
    def lr_size(self) -> int:
        return self.hr_size // self.scale

    @property
    def n_upscale(self) -> int:  # x2 upscale blocks: the tutorial's 2 for x4
        return self.scale.bit_length() - 1

    def replace(self, **changes) -> Config:  # a copy with some knobs changed
        return dataclasses.replace(self, **changes)


# Checked for every Config (every run.json too). 64 blocks of 512 filters is ~300 M parameters: more is a typo that
# would end in an opaque out-of-memory error minutes later; 0 blocks (head conv + upsampling): a benchmark's tiny model.
_ALLOWED = {"profile": PROFILES, "degradation": DEGRADATIONS, "pixel_loss": PIXEL_LOSSES,
            "content_loss": ("vgg", "pixel", "both"), "n_res_blocks": range(65), "filters": range(1, 513),
            "upsampling": ("nearest", "pixel_shuffle"), "channels": (1, 3), "scale": (2, 4, 8)}


_is_whole = lambda value: isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _shown(value) -> str:
    """``repr(value)``, cut to one short line (a run.json may hold a 1,000-digit number or a long string)."""
    text = " ".join(repr(value).split())
    return text if len(text) <= 40 else f"{text[:37]}..."


def _check_choice(name: str, value, allowed) -> None:
    """``value`` must equal one of ``allowed`` and be of its kind: ``True`` is not 1, ``4.0`` not 4, ``"3"`` not 3."""
    same_kind = lambda option: _is_whole(value) if isinstance(option, int) else isinstance(value, type(option))
    if not any(same_kind(option) and value == option for option in allowed):
        raise ConfigError(f"{name}={_shown(value)} is not one of {list(allowed)}")


_PROFILE_KNOBS: dict[str, dict] = {
    # CI: every notebook in seconds. Tiny models, random VGG weights (no download in CI).
    "smoke": dict(n_codes=48, n_res_blocks=1, filters=8, disc_filters=8, batch_size=4, pretrain_epochs=1,
                  gan_epochs=1, steps_per_epoch=2, vgg_weights=None, jit_compile=False, checkpoint_every=1,
                  pretrain_minutes=0.5, gan_minutes=0.5, eval_codes=32),
    # A learner's laptop: stage 1 must beat bicubic within minutes (notebook 06 within 5 on 2 cores); the recipe was
    # measured by benchmarks/time_to_quality.py (XLA off: slower on the 2-core CPUs). No ImageNet VGG offline.
    "cpu": dict(n_codes=2000, n_res_blocks=6, filters=32, disc_filters=32, batch_size=16, crop_size=16,
                learning_rate=3e-3, train_mix=(("clean", 0.7), ("realistic", 0.3)), pretrain_epochs=200, gan_epochs=6,
                steps_per_epoch=25, pretrain_minutes=2.0, gan_minutes=None, jit_compile=False, vgg_weights=None,
                content_loss="pixel", gan_learning_rate=5e-5),
    # The tutorial's scale on a Colab GPU; 20 + 6 minute budgets so notebook 06 fits a class period (docs/colab.md
    # "How long it takes" estimates a T4 from the H200 measurement in benchmarks/results/gpu_lease_h200/).
    # augment=False: it would replace the realistic training mix by clean LR images (notebook 02 measures that).
    "gpu": dict(n_codes=10_000, n_res_blocks=16, filters=64, disc_filters=64, batch_size=64, pretrain_epochs=40,
                gan_epochs=20, steps_per_epoch=200, pretrain_minutes=20, gan_minutes=6, vgg_weights="imagenet",
                mixed_precision="mixed_float16"),
}


def profile_choice(explicit: str | None = None, environ: Mapping[str, str] = os.environ,
                   devices: Mapping[str, int] | None = None) -> tuple[str, str]:
    """The profile and why: ``explicit`` (the notebook's parameters cell) > ``QRSR_PROFILE`` > ``gpu`` on a
    GPU/TPU > ``cpu``. ``devices`` is asked of TensorFlow only when it decides."""
    from .environment import accelerator, accelerators

    if explicit:
        choice, reason = explicit, "set in the parameters cell"
    elif environ.get("QRSR_PROFILE", "").strip():
        choice, reason = environ["QRSR_PROFILE"].strip(), "from $QRSR_PROFILE"
    else:
        found = accelerator(accelerators() if devices is None else devices)
        choice, reason = ("gpu", f"a {found} is present") if found else ("cpu", "no GPU or TPU found")
    if choice not in PROFILES:
        raise ConfigError(f"profile={choice!r} ({reason}) is not one of {list(PROFILES)}")
    return choice, reason


def get_config(profile: str | None = None, **overrides) -> Config:
    """The named profile's config (default: :func:`profile_choice`'s), overridden; ``$QRSR_DATA_DIR`` sets data_dir."""
    profile = profile or profile_choice()[0]
    _check_choice("profile", profile, PROFILES)
    if unknown := set(overrides) - {f.name for f in dataclasses.fields(Config)}:
        raise ConfigError(f"unknown config field(s): {sorted(unknown)}")
    environment = {"data_dir": os.environ["QRSR_DATA_DIR"]} if os.environ.get("QRSR_DATA_DIR") else {}
    return Config(profile=profile, **{**_PROFILE_KNOBS[profile], **environment, **overrides})
