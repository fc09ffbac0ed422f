"""Subsampling, the train/test split and dealing a split into disjoint sample groups."""

import numpy as np
import pytest

from model_state_detection.data import (
    Digits,
    deal_into_groups,
    make_sample_groups,
    split_train_test,
    stratified_subsample,
)


def labels(n_per_digit=50):
    return np.repeat(np.arange(10), n_per_digit)


def test_split_is_disjoint_complete_stratified_and_seeded():
    y = labels()
    train, test = split_train_test(y, 0.3, np.random.default_rng(0))
    assert len(test) == 150 and len(train) == 350
    assert not set(train) & set(test) and set(train) | set(test) == set(range(500))
    assert np.bincount(y[test]).tolist() == [15] * 10  # every digit held out in the same share
    again, _ = split_train_test(y, 0.3, np.random.default_rng(0))
    np.testing.assert_array_equal(train, again)


def test_stratified_subsample_keeps_label_proportions():
    y = labels(100)
    index = stratified_subsample(y, 200, np.random.default_rng(1))
    assert len(index) == 200 and len(set(index)) == 200
    assert np.bincount(y[index]).tolist() == [20] * 10
    np.testing.assert_array_equal(stratified_subsample(y, 5000, np.random.default_rng(1)), np.arange(1000))


def test_groups_are_disjoint_and_cover_the_split():
    groups = deal_into_groups(103, 5, np.random.default_rng(2))
    assert sorted(len(g) for g in groups) == [20, 20, 21, 21, 21]
    assert sorted(np.concatenate(groups).tolist()) == list(range(103))


def test_each_noisy_group_is_made_from_its_own_clean_images():
    n = 60
    # each image is constant with a distinct value, so an image can be recognised after rate-0 noise
    images = np.repeat(np.linspace(0, 1, n, dtype=np.float32)[:, None], 784, axis=1)
    digits = Digits(images, np.arange(n) % 10)
    noise = [{"name": "a", "kind": "uniform", "rate": 0.0}, {"name": "b", "kind": "gaussian", "rate": 0.0}]
    groups = make_sample_groups(digits, noise, np.random.default_rng(3))
    assert [g.name for g in groups] == ["clean", "a", "b"]
    assert [g.is_anomaly for g in groups] == [False, True, True]
    seen = [set(g.images[:, 0].tolist()) for g in groups]
    assert all(len(s) == 20 for s in seen)
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    for group in groups:  # labels travel with their images
        np.testing.assert_array_equal(group.digits, np.rint(group.images[:, 0] * (n - 1)).astype(int) % 10)


def test_digits_refuse_wrong_shapes():
    with pytest.raises(ValueError, match="784"):
        Digits(np.zeros((3, 10), dtype=np.float32), np.zeros(3))
