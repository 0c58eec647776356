"""The digits loader of Chapter 6: modalities cut from the same images, standardised, offline."""

import numpy as np
import pytest

from mmcl_lib.real_data import SPLITS, load_digit_pairs, random_partition, wrong_pairing

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def raw():
    from sklearn.datasets import load_digits
    return load_digits()


@pytest.mark.parametrize("split", SPLITS)
def test_modalities_are_disjoint_halves_of_the_same_image(raw, split):
    pairs = load_digit_pairs(split, standardise=False)
    assert pairs.X.shape == pairs.Y.shape == (1797, 32)
    np.testing.assert_array_equal(pairs.labels, raw.target)
    # every pixel of every image appears exactly once, in x or in y
    pixels = raw.images.reshape(-1, 64)
    np.testing.assert_allclose(np.sort(np.hstack([pairs.X, pairs.Y]), axis=1), np.sort(pixels, axis=1))
    np.testing.assert_allclose(pairs.X.sum(axis=1) + pairs.Y.sum(axis=1), pixels.sum(axis=1))


def test_top_bottom_is_rows_0_to_3_and_4_to_7(raw):
    pairs = load_digit_pairs("top-bottom", standardise=False)
    np.testing.assert_array_equal(pairs.X, raw.images[:, :4, :].reshape(-1, 32))
    np.testing.assert_array_equal(pairs.Y, raw.images[:, 4:, :].reshape(-1, 32))


def test_standardised_columns_have_zero_mean_and_unit_or_zero_variance():
    pairs = load_digit_pairs()
    for A in (pairs.X, pairs.Y):
        np.testing.assert_allclose(A.mean(axis=0), 0, atol=1e-12)
        std = A.std(axis=0)
        assert np.all(np.isclose(std, 1) | np.isclose(std, 0))
    # the top-left pixel is blank in every image: it stays an all-zero column
    assert np.all(pairs.X[:, 0] == 0)


def test_standardising_is_an_affine_map_of_the_raw_pixels():
    raw_pairs, std_pairs = load_digit_pairs(standardise=False), load_digit_pairs()
    live = raw_pairs.X.std(axis=0) > 0
    corr = [np.corrcoef(raw_pairs.X[:, j], std_pairs.X[:, j])[0, 1] for j in np.flatnonzero(live)]
    np.testing.assert_allclose(corr, 1.0)


def test_subset_keeps_rows_aligned():
    pairs = load_digit_pairs()
    idx = np.array([5, 0, 17])
    sub = pairs.subset(idx)
    np.testing.assert_array_equal(sub.X, pairs.X[idx])
    np.testing.assert_array_equal(sub.Y, pairs.Y[idx])
    np.testing.assert_array_equal(sub.labels, pairs.labels[idx])
    assert sub.n == 3 and sub.split == pairs.split
    assert pairs.subset(pairs.labels == 3).n == np.sum(pairs.labels == 3)
    with pytest.raises(ValueError, match="index"):
        pairs.subset(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="boolean index"):
        pairs.subset(np.array([True, False]))


def test_random_partition_is_disjoint_and_seeded():
    parts = random_partition(100, [30, 50], np.random.default_rng(3))
    assert [p.size for p in parts] == [30, 50]
    assert np.intersect1d(parts[0], parts[1]).size == 0
    again = random_partition(100, [30, 50], np.random.default_rng(3))
    for a, b in zip(parts, again):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 10, "sizes": [6, 5]}, "add up"),
    ({"n": 10, "sizes": [0]}, "sizes"),
    ({"n": 10, "sizes": [2.5]}, "sizes"),
    ({"n": 0, "sizes": [1]}, "n"),
])
def test_random_partition_rejects_bad_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        random_partition(rng=np.random.default_rng(0), **kwargs)


def test_random_partition_needs_a_generator():
    with pytest.raises(ValueError, match="rng"):
        random_partition(10, [3], 0)


def test_unknown_split_is_rejected():
    with pytest.raises(ValueError, match="split"):
        load_digit_pairs("diagonal")


def test_missing_scikit_learn_gives_an_install_hint(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match="pip install scikit-learn"):
        load_digit_pairs()


@pytest.mark.parametrize("eta", [1.0, 0.75, 0.3, 0.02])
def test_wrong_pairing_breaks_exactly_the_unmatched_pairs(eta):
    order, matched = wrong_pairing(200, eta, np.random.default_rng(8))
    assert np.array_equal(np.sort(order), np.arange(200))        # a permutation of the y's
    assert matched.sum() == round(eta * 200)
    np.testing.assert_array_equal(order == np.arange(200), matched)   # no wrong y keeps its partner


def test_wrong_pairing_scales_the_cross_covariance_by_eta():
    # E[x y^T] -> eta E[x y^T] for centred data: averaged over draws, the cross-covariance shrinks by eta
    pairs = load_digit_pairs()
    full = pairs.X.T @ pairs.Y / pairs.n
    rng = np.random.default_rng(9)
    mean = np.mean([pairs.X.T @ pairs.Y[wrong_pairing(pairs.n, 0.4, rng)[0]] / pairs.n
                    for _ in range(30)], axis=0)
    assert np.linalg.norm(mean - 0.4 * full) < 0.1 * np.linalg.norm(0.4 * full)


def test_wrong_pairing_rejects_a_single_wrong_pair():
    with pytest.raises(ValueError, match="exactly one wrong pair"):
        wrong_pairing(10, 0.9, np.random.default_rng(0))
    with pytest.raises(ValueError, match="eta"):
        wrong_pairing(10, 0.0, np.random.default_rng(0))
