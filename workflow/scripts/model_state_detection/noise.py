"""Noise that turns clean digit images (float pixels in [0, 1]) into anomalies."""

from __future__ import annotations

import numpy as np

NOISE_KINDS = ("uniform", "gaussian", "salt_and_pepper")


def uniform_noise(images: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Replace a share ``rate`` of the pixels, chosen independently, by uniform values in [0, 1)."""
    replaced = rng.random(images.shape) < rate
    return np.where(replaced, rng.random(images.shape, dtype=np.float32), images).astype(np.float32)


def gaussian_noise(images: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Add normal noise of standard deviation ``rate`` to every pixel, clipped to [0, 1]."""
    noise = rng.normal(0.0, rate, size=images.shape).astype(np.float32)
    return np.clip(images + noise, 0.0, 1.0).astype(np.float32)


def salt_and_pepper_noise(images: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Set a share ``rate`` of the pixels to 0 or 1, each with probability one half."""
    replaced = rng.random(images.shape) < rate
    salt = rng.random(images.shape) < 0.5
    return np.where(replaced, salt.astype(np.float32), images).astype(np.float32)


_NOISE = {"uniform": uniform_noise, "gaussian": gaussian_noise, "salt_and_pepper": salt_and_pepper_noise}


def add_noise(images: np.ndarray, kind: str, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Noisy copies of ``images``; the input is left unchanged."""
    if kind not in _NOISE:
        raise ValueError(f"unknown noise kind {kind!r}; allowed: {', '.join(NOISE_KINDS)}")
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"noise rate must lie in [0, 1], got {rate}")
    return _NOISE[kind](np.asarray(images, dtype=np.float32), rate, rng)
