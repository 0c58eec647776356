"""Chapter 7: MMCL among its classical relatives (PLS-SVD, CCA, ridge CCA, RANSAC CCA, CLIP).

The first tests check identities exactly (MMCL is PLS-SVD; ridge CCA's endpoints; CCA's invariance);
the others check, on a few seeds with margins, the comparisons the chapter measures.
"""

import warnings

import numpy as np
import pytest

from mmcl_lib import classical, data, metrics
from mmcl_lib.book import relatives_experiment as rx
from mmcl_lib.book import sweep
from mmcl_lib.spectral import closed_form_mmcl

warnings.filterwarnings("ignore", category=RuntimeWarning)


def _sample(n=300, d1=12, d2=9, r=3, seed=1, noise=0.5):
    rng = np.random.default_rng(seed)
    model = data.LatentFactorModel.random(d1, d2, r, rng, noise_std1=noise)
    return model, model.sample(n, rng)


@pytest.mark.parametrize("library", classical.LIBRARIES)
def test_closed_form_mmcl_equals_pls_svd_of_both_libraries(library):
    _, s = _sample()
    G1, G2 = closed_form_mmcl(s.X, s.Y, 3)
    P1, P2 = classical.pls_svd(s.X, s.Y, 3, library=library).subspaces()
    assert metrics.sin_theta(P1, metrics.orthonormal_basis(G1.T)) < 1e-8
    assert metrics.sin_theta(P2, metrics.orthonormal_basis(G2.T)) < 1e-8


def test_ridge_cca_is_cca_at_zero_shrinkage_and_pls_at_one():
    _, s = _sample()
    for c, other in ((0.0, classical.cca(s.X, s.Y, 3)), (1.0, classical.pls_svd(s.X, s.Y, 3))):
        ridge = classical.ridge_cca(s.X, s.Y, 3, shrinkage=c)
        for A, B in zip(ridge.subspaces(), other.subspaces()):
            assert metrics.sin_theta(A, B) < 1e-8


def test_scikit_learn_and_cca_zoo_cca_agree():
    _, s = _sample()
    a, b = classical.cca(s.X, s.Y, 3), classical.cca(s.X, s.Y, 3, library="scikit-learn")
    assert metrics.sin_theta(a.subspaces()[0], b.subspaces()[0]) < 1e-5
    assert np.allclose(classical.canonical_correlations(s.X, s.Y, a),
                       classical.canonical_correlations(s.X, s.Y, b), atol=1e-8)


def _variates(X, G):
    """Orthonormal basis (n x r) of the embeddings X G^T of the centred data: what any encoder outputs."""
    return metrics.orthonormal_basis((X - X.mean(axis=0)) @ G.T)


def test_cca_is_invariant_to_an_invertible_map_of_one_modality_and_mmcl_is_not():
    _, s = _sample()
    A = np.random.default_rng(7).standard_normal((12, 12)) + 3 * np.eye(12)   # invertible, far from orthogonal
    assert np.linalg.cond(A) < 1e3
    XA = s.X @ A                                                               # x -> A^T x
    before, after = classical.cca(s.X, s.Y, 3), classical.cca(XA, s.Y, 3)
    assert metrics.sin_theta(_variates(XA, after.encoders[0]), _variates(s.X, before.encoders[0])) < 1e-8
    assert np.allclose(classical.canonical_correlations(s.X, s.Y, before),
                       classical.canonical_correlations(XA, s.Y, after), atol=1e-10)
    G1, G2 = closed_form_mmcl(s.X, s.Y, 3)
    H1, H2 = closed_form_mmcl(XA, s.Y, 3)
    assert metrics.sin_theta(_variates(XA, H1), _variates(s.X, G1)) > 0.1
    assert metrics.sin_theta(_variates(s.Y, H2), _variates(s.Y, G2)) > 1e-3     # even the other modality moves


def test_first_pls_correlation_is_at_most_the_top_canonical_one():
    # the top canonical correlation is the largest correlation of any two directions; with loud
    # noise on a few coordinates PLS-SVD's first pair of directions is clearly not the best one
    for seed in range(4):
        rng = np.random.default_rng(seed)
        model = data.LatentFactorModel.random(12, 9, 3, rng, noise_std1=rx.noise_std(12, 0.5, 100.0, 3),
                                              noise_std2=rx.noise_std(9, 0.5, 100.0, 3))
        s = model.sample(400, rng)
        rho_cca = classical.canonical_correlations(s.X, s.Y, classical.cca(s.X, s.Y, 3))
        rho_pls = classical.canonical_correlations(s.X, s.Y, classical.pls_svd(s.X, s.Y, 3))
        assert rho_pls[0] < rho_cca[0] - 0.01
        assert np.all(np.diff(rho_cca) <= 1e-12)                  # canonical correlations come sorted


def test_later_pls_correlations_can_exceed_their_canonical_counterparts():
    # two independent pairs of coordinates: (x1, y1) correlated 0.98 with variance 1, (x2, y2)
    # correlated 0.12 with variance 100. PLS-SVD takes the larger covariance (12 > 0.98) first,
    # CCA the larger correlation: canonical (0.98, 0.12), PLS-SVD (0.12, 0.98)
    rng = np.random.default_rng(0)
    n, corr, scale = 50000, np.array([0.98, 0.12]), np.array([1.0, 10.0])
    Z = rng.standard_normal((n, 2))
    X = Z * scale
    Y = (corr * Z + np.sqrt(1 - corr**2) * rng.standard_normal((n, 2))) * scale
    rho_cca = classical.canonical_correlations(X, Y, classical.cca(X, Y, 2))
    rho_pls = classical.canonical_correlations(X, Y, classical.pls_svd(X, Y, 2))
    np.testing.assert_allclose(rho_cca, corr, atol=0.01)
    np.testing.assert_allclose(rho_pls, corr[::-1], atol=0.01)
    assert rho_pls[1] > rho_cca[1] + 0.8


def test_cca_finds_a_perfect_correlation_once_d1_plus_d2_reaches_n():
    # independent noise in both modalities, n = 100: the centred data span 99 dimensions, so when
    # d1 + d2 >= 100 their column spaces meet and the top canonical correlation is exactly 1,
    # although both sample covariances are invertible; at d1 + d2 = 80 it is already near 1
    rng = np.random.default_rng(5)
    top = {}
    for d1, d2 in ((10, 10), (40, 40), (50, 50), (70, 30)):
        X, Y = rng.standard_normal((100, d1)), rng.standard_normal((100, d2))
        assert np.linalg.cond(np.cov(X.T)) < 1e3 and np.linalg.cond(np.cov(Y.T)) < 1e3
        top[d1, d2] = classical.canonical_correlations(X, Y, classical.cca(X, Y, 2))[0]
    assert top[10, 10] < 0.7
    assert top[40, 40] > 0.95
    assert top[50, 50] == pytest.approx(1.0, abs=1e-8) and top[70, 30] == pytest.approx(1.0, abs=1e-8)


def test_cca_weights_are_biased_by_loud_noise_but_its_loadings_are_not():
    rng = np.random.default_rng(3)
    loud = data.LatentFactorModel.random(20, 20, 4, rng, noise_std1=rx.noise_std(20, 0.5, 100.0, 3))
    quiet = data.LatentFactorModel.random(20, 20, 4, rng, noise_std1=0.5)
    for model, weights_biased in ((loud, True), (quiet, False)):
        s = model.sample(40000, rng)
        f = classical.cca(s.X, s.Y, 4)
        w_err = metrics.sin_theta(f.subspaces()[0], model.U1)
        assert metrics.sin_theta(f.subspaces("loadings")[0], model.U1) < 0.05
        assert metrics.subspace_error(closed_form_mmcl(s.X, s.Y, 4)[0], model.U1) < 0.05
        assert (w_err > 0.5) if weights_biased else (w_err < 0.1)


def _sweep(fn, grid, seeds=4):
    return sweep.sweep(fn, grid, seeds, common_random_numbers=True)


def test_cca_retrieves_far_better_than_mmcl_under_loud_noise_on_a_few_coordinates():
    res = _sweep(lambda rng, ratio: rx.compare(rng, ratio=ratio, loud=3, methods=("mmcl", "cca")), {"ratio": [1.0, 100.0]})
    assert abs(res.mean("cca_ret")[0] - res.mean("mmcl_ret")[0]) < 0.05        # isotropic noise: a tie
    assert res.mean("cca_ret")[1] > res.mean("mmcl_ret")[1] + 0.3               # loud coordinates: CCA wins
    assert np.all(res["cca_ret"][1] > res["mmcl_ret"][1])                        # on every seed


def test_cca_breaks_when_d_approaches_n_and_ridge_cca_and_mmcl_do_not():
    res = _sweep(lambda rng, d: rx.compare(rng, n=100, d=d, ratio=10.0), {"d": [10, 75, 150]})
    level = metrics.random_subspace_level(75, 4)
    assert res.mean("cca_load")[1] > 0.9 * level and res.mean("cca_ret")[1] < 0.02
    assert res.mean("ridge_cca_load")[1] < 0.55 * level and res.mean("mmcl")[1] < 0.55 * level
    assert abs(res.mean("ridge_cca_load")[1] - res.mean("mmcl")[1]) < 0.05        # ridge repairs the features
    ridge, mmcl = res.mean("ridge_cca_ret")[1:].mean(), res.mean("mmcl_ret")[1:].mean()   # d >= 75
    assert ridge > 4 * res.mean("cca_ret")[1:].mean() and abs(ridge - mmcl) < 0.03     # retrieval back near MMCL's


def test_mmcl_beats_cca_at_small_n_and_they_tie_at_large_n():
    res = _sweep(lambda rng, n: rx.compare(rng, n=n, ratio=10.0, methods=("mmcl", "cca")), {"n": [30, 1000]})
    assert res.mean("cca_load")[0] > res.mean("mmcl")[0] + 0.3
    assert abs(res.mean("cca_load")[1] - res.mean("mmcl")[1]) < 0.03
    assert res.mean("cca_ret")[1] > res.mean("mmcl_ret")[1] + 0.03            # many pairs: whitening wins retrieval


def test_cca_follows_the_one_over_eta_law_at_first_then_degrades_faster_than_mmcl():
    res = _sweep(lambda rng, eta: rx.compare(rng, eta=eta, ratio=10.0, methods=("mmcl", "cca")),
                 {"eta": [1.0, 0.5, 0.125]}, seeds=6)
    cca, mmcl = res.mean("cca_load"), res.mean("mmcl")
    assert 1.6 < cca[1] / cca[0] < 2.6 and 1.6 < mmcl[1] / mmcl[0] < 2.6      # halving eta: about twice the error
    assert cca[2] > mmcl[2] + 0.2                                              # many wrong pairs: CCA worse
    assert res.mean("mmcl_ret")[2] > res.mean("cca_ret")[2]


def test_cca_retrieves_best_with_correct_pairs_and_mmcl_with_most_pairs_wrong():
    res = _sweep(lambda rng, eta: rx.compare(rng, eta=eta, ratio=10.0, methods=("mmcl", "cca")), {"eta": [1.0, 0.125]})
    assert res.mean("cca_ret")[0] > res.mean("mmcl_ret")[0] + 0.03
    assert res.mean("mmcl_ret")[1] > res.mean("cca_ret")[1] + 0.03


def test_ransac_cca_improves_on_cca_about_as_much_as_ridge_cca_and_retrieves_worse_than_mmcl():
    res = _sweep(lambda rng, eta: rx.compare(rng, eta=eta, methods=("mmcl", "cca", "ridge_cca", "ransac_cca"),
                                              ratio=10.0), {"eta": [0.25, 0.125]})
    cca, ridge, ransac = (res.mean(k + "_load") for k in ("cca", "ridge_cca", "ransac_cca"))
    assert np.all(ransac < cca)
    assert np.all(np.abs(ransac - ridge) < 0.5 * (cca - ridge))              # the gain is mostly the shrinkage
    assert res.mean("ransac_cca_ret")[1] > res.mean("cca_ret")[1]
    assert res.mean("mmcl_ret")[1] > res.mean("ransac_cca_ret")[1]


def test_ransac_cca_is_ridge_cca_on_a_consensus_set_enriched_in_correct_pairs():
    # with a quarter of the pairs correct, RANSAC's consensus set holds a larger share of correct
    # pairs than the data and than the pairs it rejects, and the final fit is ridge CCA (same
    # shrinkage) on exactly that set; ridge CCA on all the pairs is a different fit
    for seed in range(3):
        rng = np.random.default_rng(seed)
        model = data.LatentFactorModel.random(20, 20, 4, rng, noise_std1=rx.noise_std(20, 0.5, 10.0, 0))
        s = model.sample(1000, rng, eta=0.25)
        fit = classical.ransac_cca(s.X, s.Y, 4, rng, shrinkage=0.1, max_trials=20)
        inside = fit.inliers
        assert inside is not None and inside.shape == (1000,), "RANSAC CCA reports its consensus set"
        assert 0.5 < inside.mean() < 0.9
        assert s.matched[inside].mean() > 0.25 + 0.04 and s.matched[inside].mean() > s.matched[~inside].mean() + 0.1
        on_consensus = classical.ridge_cca(s.X[inside], s.Y[inside], 4, shrinkage=0.1)
        assert metrics.sin_theta(fit.subspaces()[0], on_consensus.subspaces()[0]) < 1e-8
        everything = classical.ridge_cca(s.X, s.Y, 4, shrinkage=0.1)
        assert metrics.sin_theta(fit.subspaces()[0], everything.subspaces()[0]) > 0.3


def test_clip_moves_from_pls_towards_cca_as_the_temperature_falls():
    rng = np.random.default_rng(0)
    model = data.LatentFactorModel.random(20, 20, 4, rng, noise_std1=rx.noise_std(20, 0.5, 100.0, 3))
    s = model.sample(600, rng)
    pls = metrics.orthonormal_basis(closed_form_mmcl(s.X, s.Y, 4)[0].T)
    cca = classical.cca(s.X, s.Y, 4).subspaces()[0]
    dist = {}
    for tau in (0.3, 3.0):
        B = metrics.orthonormal_basis(rx.clip_encoders(s.X, s.Y, 4, rng, tau=tau)[0].T)
        dist[tau] = (metrics.sin_theta(B, pls), metrics.sin_theta(B, cca))
    assert dist[3.0][0] < dist[3.0][1]            # warm: closer to PLS (MMCL) than to CCA
    assert dist[0.3][1] < dist[0.3][0]            # cold: closer to CCA than to PLS
    assert dist[0.3][0] > dist[3.0][0]


def test_ridge_cca_retrieves_better_than_mmcl_and_cca_on_the_digits_with_few_pairs():
    res = _sweep(lambda rng, n_train: rx.digits_compare(rng, views=("fac", "kar"), n_train=n_train, shrinkages=(0.1,)),
                 {"n_train": [300, 1000]}, seeds=2)
    assert res.mean("ridge_cca_0.1_ret")[0] > max(res.mean("mmcl_ret")[0], res.mean("cca_ret")[0]) + 0.2
    assert res.mean("cca_ret")[1] > max(res.mean("mmcl_ret")[1], res.mean("ridge_cca_0.1_ret")[1])   # many pairs: CCA


def test_with_wrong_digit_pairs_cca_collapses_and_stronger_shrinkage_is_best():
    res = _sweep(lambda rng, eta: rx.digits_compare(rng, views=("fac", "kar"), n_train=300, eta=eta), {"eta": [0.5]},
                 seeds=2)
    ret = {k: float(res.mean(k + "_ret")[0]) for k in ("mmcl", "cca", "ridge_cca_0.1", "ridge_cca_0.5")}
    assert ret["cca"] < 0.05 < ret["mmcl"]
    assert ret["ridge_cca_0.5"] > max(ret["ridge_cca_0.1"], ret["mmcl"], ret["cca"])


def test_rescaling_one_coordinate_breaks_mmcl_retrieval_but_not_ccas_nor_standardised_mmcls():
    res = _sweep(lambda rng, s: rx.compare(rng, x_scale=s, ratio=10.0, methods=("mmcl", "mmcl_std", "cca")),
                 {"s": [1.0, 100.0]}, seeds=3)
    assert np.array_equal(res["cca_ret"][0], res["cca_ret"][1])
    assert np.array_equal(res["mmcl_std_ret"][0], res["mmcl_std_ret"][1])
    assert res.mean("mmcl_ret")[1] < 0.25 * res.mean("mmcl_ret")[0]


def test_wrong_pairs_shrink_the_canonical_correlations_by_eta():
    model = data.LatentFactorModel.random(10, 10, 2, np.random.default_rng(8), noise_std1=1.0)
    top = [classical.canonical_correlations(*(lambda s: (s.X, s.Y))(model.sample(20000, np.random.default_rng(9), eta=eta)),
                                            classical.cca(*(lambda s: (s.X, s.Y))(model.sample(20000, np.random.default_rng(9), eta=eta)), 2))[0]
           for eta in (1.0, 0.5)]
    assert 0.45 <= top[1] / top[0] <= 0.55


@pytest.mark.parametrize("call, message", [
    (lambda X, Y: classical.pls_svd(X, Y, 0), "r must"),
    (lambda X, Y: classical.pls_svd(X, Y, 10), "r must"),
    (lambda X, Y: classical.pls_svd(X, Y[:-1], 2), "same number of samples"),
    (lambda X, Y: classical.pls_svd(X, Y, 2, library="numpy"), "library must"),
    (lambda X, Y: classical.cca(np.where(X > 0, np.nan, X), Y, 2), "NaN"),
    (lambda X, Y: classical.ridge_cca(X, Y, 2, shrinkage=1.5), "shrinkage"),
    (lambda X, Y: classical.ransac_cca(X, Y, 2, 0), "rng"),
    (lambda X, Y: classical.fit("svd", X, Y, 2), "method must"),
    (lambda X, Y: classical.fit("ransac_cca", X, Y, 2), "rng"),
    (lambda X, Y: classical.pls_svd(X, Y, 2).subspaces("scores"), "which"),
    (lambda X, Y: classical.canonical_correlations(X, Y, None), "fit_result"),
])
def test_bad_inputs_raise_clear_errors(call, message):
    _, s = _sample(n=40)
    with pytest.raises(ValueError, match=message):
        call(s.X, s.Y)


def test_worked_example_pls_and_cca_directions_and_correlations():
    """Chapter 7's worked example: Sxx = diag(4, 1), Syy = 1, Sxy = (1, 1/2). By hand, PLS-SVD
    takes (2, 1)/sqrt5 with correlation sqrt(1.25/3.4), CCA (1, 2)/sqrt5 with correlation
    sqrt(1/2); on rows with exactly these covariances both libraries agree."""
    C = np.array([[4.0, 0.0, 1.0], [0.0, 1.0, 0.5], [1.0, 0.5, 1.0]])
    rows = rx.exact_covariance_sample(C, 200, np.random.default_rng(0))
    centred = rows - rows.mean(axis=0)
    np.testing.assert_allclose(centred.T @ centred / 200, C, atol=1e-12)
    X, Y = rows[:, :2], rows[:, 2:]
    for fit, w, rho in ((classical.pls_svd(X, Y, 1), [2.0, 1.0], np.sqrt(1.25 / 3.4)),
                        (classical.cca(X, Y, 1), [1.0, 2.0], np.sqrt(0.5))):
        got = fit.W1[:, 0] / np.linalg.norm(fit.W1[:, 0])
        np.testing.assert_allclose(np.abs(got), np.array(w) / np.sqrt(5.0), atol=1e-6)
        np.testing.assert_allclose(classical.canonical_correlations(X, Y, fit)[0], rho, atol=1e-6)


def test_exact_covariance_sample_rejects_a_non_square_matrix():
    with pytest.raises(ValueError, match="symmetric square"):
        rx.exact_covariance_sample(np.ones((2, 3)), 10, np.random.default_rng(0))


def test_chapter_7_draws_every_method_in_its_house_look():
    from mmcl_lib.book import style
    for method, (key, library) in rx.STYLE.items():
        look = rx.look(method)
        assert look["color"] == style.METHODS[key].color
        assert look["marker"] == style.METHODS[key].marker
        assert look["label"].endswith(f"({library})")
    assert rx.look("pls")["linestyle"] != rx.look("mmcl")["linestyle"]   # PLS-SVD drawn on MMCL
