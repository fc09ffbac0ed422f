"""Noise functions: known properties, checked on synthetic images."""

import numpy as np
import pytest

from model_state_detection.noise import add_noise


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return (rng.random((200, 784)) < 0.2).astype(np.float32) * 0.8  # digit-like: mostly 0, some 0.8


@pytest.mark.parametrize("kind", ["uniform", "gaussian", "salt_and_pepper"])
def test_rate_zero_leaves_images_unchanged(images, kind):
    np.testing.assert_array_equal(add_noise(images, kind, 0.0, np.random.default_rng(1)), images)


@pytest.mark.parametrize("kind", ["uniform", "gaussian", "salt_and_pepper"])
def test_output_is_float32_in_unit_range_and_input_untouched(images, kind):
    before = images.copy()
    noisy = add_noise(images, kind, 0.7, np.random.default_rng(1))
    assert noisy.dtype == np.float32 and noisy.shape == images.shape
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0
    np.testing.assert_array_equal(images, before)


def test_same_seed_same_noise_other_seed_other_noise(images):
    a = add_noise(images, "uniform", 0.3, np.random.default_rng(5))
    b = add_noise(images, "uniform", 0.3, np.random.default_rng(5))
    c = add_noise(images, "uniform", 0.3, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_uniform_replaces_the_given_share_of_pixels(images):
    noisy = add_noise(images, "uniform", 0.25, np.random.default_rng(2))
    changed = np.mean(noisy != images)
    # 156,800 pixels, each replaced with p=0.25 (a replacement equal to the old value has probability ~0)
    assert changed == pytest.approx(0.25, abs=0.005)


def test_uniform_rate_one_replaces_every_pixel_by_uniform_values(images):
    noisy = add_noise(images, "uniform", 1.0, np.random.default_rng(2))
    assert np.mean(noisy == images) < 0.001
    assert noisy.mean() == pytest.approx(0.5, abs=0.01)  # mean of U(0, 1)


def test_salt_and_pepper_sets_pixels_to_zero_or_one_half_each(images):
    noisy = add_noise(images, "salt_and_pepper", 1.0, np.random.default_rng(3))
    assert set(np.unique(noisy)) == {0.0, 1.0}
    assert noisy.mean() == pytest.approx(0.5, abs=0.01)
    partial = add_noise(images, "salt_and_pepper", 0.1, np.random.default_rng(3))
    # a pixel flipped to its own value (0 -> 0) does not show as changed: about 0.1 * (share of mismatches)
    expected = 0.1 * (0.5 * np.mean(images != 0) + 0.5 * np.mean(images != 1))
    assert np.mean(partial != images) == pytest.approx(expected, abs=0.004)


def test_gaussian_adds_noise_of_the_given_standard_deviation_then_clips():
    mid_grey = np.full((100, 784), 0.5, dtype=np.float32)
    noisy = add_noise(mid_grey, "gaussian", 0.1, np.random.default_rng(4))
    assert (noisy - mid_grey).std() == pytest.approx(0.1, rel=0.02)  # 0.5 +- 5 sigma is never clipped
    black = np.zeros((100, 784), dtype=np.float32)
    clipped = add_noise(black, "gaussian", 0.1, np.random.default_rng(4))
    assert clipped.min() == 0.0 and np.mean(clipped == 0.0) == pytest.approx(0.5, abs=0.01)  # half pushed below 0


@pytest.mark.parametrize("kind, rate", [("speckle", 0.1), ("uniform", -0.1), ("gaussian", 1.5)])
def test_bad_kind_or_rate_is_refused(images, kind, rate):
    with pytest.raises(ValueError, match="kind|rate"):
        add_noise(images, kind, rate, np.random.default_rng(0))
