"""Measure what Chapter 8 says about teacher-based filtering (Pareek, Oh and Du 2025), at larger sizes.

Usage: python experiments/filtering_rates.py [--quick]   (one BLAS thread; see experiments/README.md for
the recorded wall time; --quick: small sizes, a check that the script runs)

Writes experiments/results/filtering_rates.json (every number, the settings, the command and the wall
time), filtering_rates.md (the tables) and filtering_rates.png (the rates figure), each atomically.
Sections: the three rates (slopes and flat constants over seeds), their slopes in n, the regime switch
for r = 2, 4, 8, 16, the paper's Table 1 with and without Algorithm 1's split, the teacher at low and
high signal-to-noise, heteroskedastic noise, and a teacher trained on few pairs.
"""

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # many small products: one BLAS thread is faster
os.environ.setdefault("OMP_NUM_THREADS", "1")        # and does not oversubscribe a shared machine

import numpy as np  # noqa: E402  (after the thread settings)

from mmcl_lib import baselines, filtering  # noqa: E402
from mmcl_lib.book import display, files  # noqa: E402
from mmcl_lib.book import filtering_experiment as fx  # noqa: E402
from mmcl_lib.book.sweep import sweep  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"


def full_settings(quick: bool) -> dict:
    if quick:
        return {"n": 20_000, "etas": [1.0, 0.1, 0.01, 0.001], "seeds": 3, "n_grid": [5_000, 20_000],
                "switch_n": 20_000, "switch_r": [4, 8], "switch_seeds": 3, "table1_seeds": 5,
                "snr_noises": [0.1, 1.0], "snr_n": [20_000], "snr_seeds": 2, "teacher_plateau_n": 100_000,
                "hetero_levels": [1.0], "hetero_ratios": [1, 10], "hetero_n": [10_000, 100_000],
                "hetero_seeds": 2, "draws": 50_000, "small_sizes": [10, 100, 1000], "small_n": 20_000,
                "small_seeds": 2}
    return {"n": 200_000, "etas": list(np.geomspace(1, 1e-3, 13)), "seeds": 20,
            "n_grid": [20_000, 60_000, 200_000, 600_000], "switch_n": 100_000, "switch_r": [2, 4, 8, 16],
            "switch_seeds": 10, "table1_seeds": 100, "snr_noises": [0.03, 0.1, 0.3, 1.0],
            "snr_n": [20_000, 100_000, 500_000], "snr_seeds": 10, "teacher_plateau_n": 1_000_000,
            "hetero_levels": [0.1, 0.3, 1.0], "hetero_ratios": [1, 2, 3, 5, 10, 30, 100],
            "hetero_n": [10_000, 100_000, 1_000_000], "hetero_seeds": 5, "draws": 500_000,
            "small_sizes": [8, 10, 20, 30, 50, 100, 300, 1000, 3000, 10_000], "small_n": 100_000,
            "small_seeds": 10}


METRICS = {"max": "", "m1": "_m1"}    # the paper's ERR (worse modality) and the book's (modality 1)

REGIMES = {
    "none": ("none", "eta_sqrt_n", 0.02, 1.0),
    "clean": ("clean", "sqrt_eta_n", 1e-3, 1.0),
    "oracle_0_large": ("oracle_0", "sqrt_eta_n", 0.18, 1.0),
    "oracle_0_small": ("oracle_0", "sqrt_n", 1e-3, 0.01),
    "oracle_half_large": ("oracle_half", "sqrt_eta_n", 0.18, 1.0),
    "oracle_half_small": ("oracle_half", "sqrt_n", 1e-3, 0.01),
    "teacher_0_large": ("teacher_0", "sqrt_eta_n", 0.18, 1.0),
    "teacher_half_large": ("teacher_half", "sqrt_eta_n", 0.18, 1.0),
}


def summarise(result, keys):
    """Mean, standard deviation and standard error over the last (seed) axis, as nested lists."""
    out = {}
    for key in keys:
        v = result[key]
        k = np.sum(np.isfinite(v), axis=-1)
        out[key] = {"mean": np.nanmean(v, axis=-1).tolist(), "sd": np.nanstd(v, axis=-1, ddof=1).tolist(),
                    "se": (np.nanstd(v, axis=-1, ddof=1) / np.sqrt(k)).tolist(), "finite": k.tolist()}
    return out


def rates(cfg):
    n, etas, seeds = cfg["n"], cfg["etas"], cfg["seeds"]
    res = fx.rates_sweep(n=n, etas=etas, seeds=seeds)
    res_split = fx.rates_sweep(n=n, etas=etas, seeds=seeds, split=True, methods=("teacher_0", "teacher_half"))
    pred = fx.predicted_rates(etas, n, draws=cfg["draws"])
    fits = {name: fx.rate_fits(res, n, REGIMES, metric=metric) for name, metric in METRICS.items()}
    teacher_regimes = {k: v for k, v in REGIMES.items() if v[0].startswith("teacher")}
    split_fits = {name: fx.rate_fits(res_split, n, teacher_regimes, metric=metric)
                  for name, metric in METRICS.items()}
    # the teacher's own plateau: where n eta^2 >> d, at a larger n
    plateau_etas = [0.04, 0.02, 0.01]
    big = fx.rates_sweep(n=cfg["teacher_plateau_n"], etas=plateau_etas, seeds=max(2, seeds // 2),
                         methods=("none", "teacher_0", "oracle_0", "clean"))
    big_fits = {name: fx.rate_fits(big, cfg["teacher_plateau_n"], {
        "teacher_0_plateau": ("teacher_0", "sqrt_n", 0.01, 0.04),
        "oracle_0_plateau": ("oracle_0", "sqrt_n", 0.01, 0.04)}, metric=metric) for name, metric in METRICS.items()}
    r, d1, s = fx.SETTINGS["r"], fx.SETTINGS["d1"], fx.SETTINGS["noise"]
    m_r = math.sqrt(2) * math.exp(math.lgamma((r + 1) / 2) - math.lgamma(r / 2))
    predicted_constants = {
        "none_eta_sqrt_n": math.sqrt(r * (d1 - r) * s**2 * (1 + s**2)),
        "clean_sqrt_eta_n": math.sqrt(r * (d1 - r) * s**2 * (1 + s**2)),
        "oracle_0_plateau_sqrt_n": r * math.sqrt(math.pi * r * s**2 * (d1 - r) / (1 + s**2)) / m_r,
    }
    keys = [k for k in res.values]
    return {"n": n, "etas": list(map(float, etas)), "seeds": seeds,
            "errors": summarise(res, keys), "errors_split": summarise(res_split, list(res_split.values)),
            "predicted_m1": {k: v.tolist() for k, v in pred.items()}, "predicted_constants_m1": predicted_constants,
            "fits": fits, "fits_split": split_fits,
            "teacher_plateau": {"n": cfg["teacher_plateau_n"], "etas": plateau_etas,
                                "errors": summarise(big, list(big.values)), "fits": big_fits},
            "switch_r4": {"oracle_0": fx.switch_point(res, "oracle_0", (1e-3, 0.01)),
                          "teacher_0": fx.switch_point(res, "teacher_0", (0.01, 0.02)),
                          "oracle_half": fx.switch_point(res, "oracle_half", (1e-3, 0.01))}}, res, pred


def slopes_in_n(cfg):
    out = {}
    for eta in (0.3, 0.01):
        # common random numbers: each seed keeps its model (loadings) across n, so the slope in n is
        # not blurred by model-to-model differences
        res = sweep(lambda rng, n: fx.rates_run(rng, eta=eta, n=n, **fx.SETTINGS),
                    {"n": cfg["n_grid"]}, cfg["seeds"], common_random_numbers=True)
        ns = np.asarray(cfg["n_grid"], dtype=float)
        out[f"eta={eta:g}"] = {
            key: {"slope": fx.mean_se(fx.seed_slopes(ns, res[key])), "mean": res.mean(key).tolist()}
            for key in res.values}
    return {"n_grid": cfg["n_grid"], "slopes": out}


def switch(cfg):
    out = {}
    etas = list(np.geomspace(1, 1e-3, 13))
    for r in cfg["switch_r"]:
        d1, d2 = (10, 8) if r == 4 else (2 * r + 2, 2 * r)
        res = fx.rates_sweep(n=cfg["switch_n"], etas=etas, seeds=cfg["switch_seeds"], d1=d1, d2=d2, r=r,
                             methods=("oracle_0",))
        predicted = fx.predicted_switch(r)
        low = predicted["first_order"] / 8
        out[f"r={r}"] = {"d1": d1, "d2": d2, "plateau_etas": [e for e in etas if e <= low],
                         "measured_m1": fx.switch_point(res, "oracle_0", (1e-3, low)),
                         "measured_max": fx.switch_point(res, "oracle_0", (1e-3, low), metric=""),
                         "predicted": predicted, "errors_m1": summarise(res, ["oracle_0_m1"])}
    return {"n": cfg["switch_n"], "seeds": cfg["switch_seeds"], "etas": list(map(float, etas)), "by_r": out}


def table1(cfg):
    seeds = cfg["table1_seeds"]
    out = {}
    for split in (False, True):
        runs = [fx.table1_run(np.random.default_rng(s), split=split) for s in range(seeds)]
        out["split" if split else "no_split"] = {
            key: {"mean_1e4": 1e4 * float(np.mean([run[key] for run in runs])),
                  "sd_1e4": 1e4 * float(np.std([run[key] for run in runs], ddof=1)),
                  "se_1e4": 1e4 * float(np.std([run[key] for run in runs], ddof=1) / math.sqrt(seeds))}
            for key in runs[0]}
    theta0 = []
    for s in range(seeds):
        rng = np.random.default_rng(s)
        model = fx.paper_model(rng, **fx.SETTINGS)
        sample = fx.corrupted_pairs(model, 10_000, 0.3, rng)
        res = filtering.train_filter_train(sample.X, sample.Y, 4, threshold=0.0, split=False)
        theta0.append(filtering.max_modality_error(res.G1, res.G2, model.U1, model.U2))
    model = fx.paper_model(np.random.default_rng(0), **fx.SETTINGS)
    first = {"unfiltered_m1": baselines.mmcl_first_order_error(model, 10_000, 0.3),
             "clean_only_m1": baselines.mmcl_first_order_error(model, 3000, 1.0),
             "oracle_theta0_m1": filtering.filtered_first_order_error(model, 10_000, 0.3, np.random.default_rng(1),
                                                                      threshold=0.0, draws=cfg["draws"])[0]}
    ratio = [out["split"][k]["mean_1e4"] / out["no_split"][k]["mean_1e4"] for k in out["split"] if "_m1" not in k]
    return {"seeds": seeds, "paper": {f"q={q:g}": v for q, v in fx.PAPER_TABLE1.items()}, **out,
            "teacher_theta0_no_split_1e4": 1e4 * float(np.mean(theta0)),
            "first_order_1e4": {k: 1e4 * v for k, v in first.items()},
            "split_over_no_split": {"mean": float(np.mean(ratio)), "min": float(np.min(ratio)),
                                    "max": float(np.max(ratio))}}


def teacher_snr(cfg):
    out = {}
    for split in (False, True):
        noises = cfg["snr_noises"] if not split else [x for x in cfg["snr_noises"] if x in (0.1, 1.0)]
        res = fx.teacher_snr(noises=noises, ns=cfg["snr_n"], seeds=cfg["snr_seeds"], split=split)
        out["split" if split else "no_split"] = {"noises": noises, **summarise(res, list(res.values))}
    res = sweep(lambda rng, eta: fx.teacher_snr_run(rng, noise=1.0, n=100_000, eta=eta),
                {"eta": list(np.geomspace(1, 0.01, 7))}, max(2, cfg["snr_seeds"] // 2))
    etas = np.asarray(res.grid["eta"])
    scaled = {key: (res.mean(key) * np.sqrt(etas * 100_000)).tolist() for key in ("teacher", "oracle", "none")}
    return {"n": cfg["snr_n"], "seeds": cfg["snr_seeds"], "eta": 0.1, "d": 20, "r": 4, **out,
            "low_snr_eta_sweep": {"noise": 1.0, "n": 100_000, "etas": etas.tolist(),
                                  "errors": summarise(res, ["teacher", "oracle", "none"]),
                                  "sqrt_eta_n_times_error": scaled}}


def heteroskedastic(cfg):
    out = {}
    for level in cfg["hetero_levels"]:
        res = sweep(lambda rng, ratio: fx.heteroskedastic_bias(rng, ratio=ratio, level=level, draws=cfg["draws"]),
                    {"ratio": cfg["hetero_ratios"]}, cfg["hetero_seeds"])
        out[f"level={level:g}"] = summarise(res, list(res.values))
    errs = sweep(lambda rng, n: fx.heteroskedastic_run(rng, n=n), {"n": cfg["hetero_n"]}, cfg["hetero_seeds"])
    return {"ratios": cfg["hetero_ratios"], "eta": 0.3, "d": 10, "r": 4, "draws": cfg["draws"],
            "population_error_m1": out,
            "sample_errors_m1": {"ratio": 10, "level": 1.0, "n": cfg["hetero_n"],
                                 **summarise(errs, list(errs.values))}}


def small_teacher(cfg):
    out = {}
    for noise, eta, fraction in ((0.01, 0.3, 0.4), (0.3, 0.3, 0.4), (0.3, 0.1, 0.15), (1.0, 0.3, 0.4)):
        res = sweep(lambda rng, n_teacher: fx.small_teacher_run(rng, n_teacher=n_teacher, n=cfg["small_n"],
                                                                 eta=eta, fraction=fraction, noise=noise),
                    {"n_teacher": cfg["small_sizes"]}, cfg["small_seeds"])
        out[f"noise={noise:g},eta={eta:g}"] = {"fraction": fraction, **summarise(res, list(res.values))}
    return {"n": cfg["small_n"], "n_teacher": cfg["small_sizes"], "seeds": cfg["small_seeds"], "by_setting": out}


def fmt_pm(pair, digits=3):
    return f"{pair[0]:.{digits}f} ± {pair[1]:.{digits}f}"


def markdown(results: dict) -> str:
    R = results["rates"]
    lines = ["# Teacher-based filtering: recorded measurements (Chapter 8)", "",
             f"Command: `{results['command']}`; wall time {results['wall_time_s']:.0f} s. Setting: d1 = 10, "
             "d2 = 8, r = 4, noise sd 0.01 (gamma = 10^4), Haar loadings redrawn per seed, Bernoulli clean coins; "
             "errors are sin-theta distances, `max` = the worse modality (the paper's ERR, reconstructed), "
             "`m1` = modality 1 (the book's metric). Uncertainties are standard errors over seeds.", "",
             f"## The three rates (n = {R['n']}, {R['seeds']} seeds, teacher on all pairs)", "",
             "| regime | eta range | log-log slope in eta (max) | constant (max) | slope (m1) | constant (m1) | RMS (m1) |",
             "|---|---|---|---|---|---|---|"]
    for name, f in R["fits"]["max"].items():
        g = R["fits"]["m1"][name]
        lines.append(f"| {name} ({f['scaling']}) | {min(f['etas']):.3g}-{max(f['etas']):.3g} | {fmt_pm(f['slope'])} | "
                     f"{fmt_pm(f['constant'], 4)} | {fmt_pm(g['slope'])} | {fmt_pm(g['constant'], 4)} | {g['rms']:.4f} |")
    for name, f in R["fits_split"]["max"].items():
        g = R["fits_split"]["m1"][name]
        lines.append(f"| {name}, split ({f['scaling']}) | {min(f['etas']):.3g}-{max(f['etas']):.3g} | "
                     f"{fmt_pm(f['slope'])} | {fmt_pm(f['constant'], 4)} | {fmt_pm(g['slope'])} | "
                     f"{fmt_pm(g['constant'], 4)} | {g['rms']:.4f} |")
    TP = R["teacher_plateau"]
    for name, f in TP["fits"]["max"].items():
        g = TP["fits"]["m1"][name]
        lines.append(f"| {name} at n = {TP['n']} (sqrt_n) | 0.01-0.04 | {fmt_pm(f['slope'])} | "
                     f"{fmt_pm(f['constant'], 4)} | {fmt_pm(g['slope'])} | {fmt_pm(g['constant'], 4)} | {g['rms']:.4f} |")
    pc = R["predicted_constants_m1"]
    lines += ["", "First-order predictions (modality 1, RMS; derived here): "
              f"error x eta sqrt(n) = {pc['none_eta_sqrt_n']:.4f} (no filtering), error x sqrt(eta n) = "
              f"{pc['clean_sqrt_eta_n']:.4f} (clean pairs), error x sqrt(n) = {pc['oracle_0_plateau_sqrt_n']:.4f} "
              "(true-loading filter, theta = 0, eta -> 0).", "",
              "Mean errors (max, x 10^-4) against eta:", "",
              "| eta | " + " | ".join(fx.METHODS) + " |", "|---|" + "---|" * len(fx.METHODS)]
    for i, eta in enumerate(R["etas"]):
        lines.append(f"| {eta:.4g} | " + " | ".join(f"{1e4 * R['errors'][m]['mean'][i]:.2f}" for m in fx.METHODS) + " |")
    S = results["slopes_in_n"]
    lines += ["", f"## Slopes in n (n = {S['n_grid']})", "", "| eta | method | slope in n (max) |", "|---|---|---|"]
    for eta, by in S["slopes"].items():
        for key, v in by.items():
            if not key.endswith("_m1"):
                lines.append(f"| {eta} | {key} | {fmt_pm(v['slope'])} |")
    W = results["switch"]
    lines += ["", f"## Regime switch of the true-loading filter at theta = 0 (n = {W['n']}, {W['seeds']} seeds)", "",
              "| r | measured (m1) | measured (max) | first order | 1/(pi r) | 1/r^2 (bound) |", "|---|---|---|---|---|---|"]
    for r, v in W["by_r"].items():
        lines.append(f"| {r[2:]} | {v['measured_m1']['eta_x']:.4f} ± {v['measured_m1']['se']:.4f} | "
                     f"{v['measured_max']['eta_x']:.4f} ± {v['measured_max']['se']:.4f} | "
                     f"{v['predicted']['first_order']:.4f} | {v['predicted']['one_over_pi_r']:.4f} | "
                     f"{v['predicted']['one_over_r2']:.4f} |")
    sw = R["switch_r4"]
    lines += ["", "At r = 4 from the rates sweep: " + ", ".join(
        f"{k} {v['eta_x']:.4f} ± {v['se']:.4f}" for k, v in sw.items()) + "."]
    T = results["table1"]
    lines += ["", f"## The paper's Table 1 (n = 10^4, eta = 0.3, {T['seeds']} seeds; x 10^-4, mean ± sd)", "",
              "| kept fraction | paper | ours, teacher on all pairs | ours, Algorithm 1's split |", "|---|---|---|---|"]
    for q, (m, s) in T["paper"].items():
        a, b = T["no_split"][q], T["split"][q]
        lines.append(f"| {q[2:]} | {m:.2f} ± {s:.2f} | {a['mean_1e4']:.2f} ± {a['sd_1e4']:.2f} | "
                     f"{b['mean_1e4']:.2f} ± {b['sd_1e4']:.2f} |")
    so = T["split_over_no_split"]
    fo = T["first_order_1e4"]
    lines += ["", f"Split / no split: {so['mean']:.2f} (range {so['min']:.2f}-{so['max']:.2f}). Teacher at theta = 0 "
              f"(no split): {T['teacher_theta0_no_split_1e4']:.2f}. First order (m1): unfiltered "
              f"{fo['unfiltered_m1']:.2f}, clean only {fo['clean_only_m1']:.2f}, true-loading theta = 0 "
              f"{fo['oracle_theta0_m1']:.2f}."]
    N = results["teacher_snr"]
    lines += ["", f"## The teacher at low and high signal-to-noise (d = 20, r = 4, eta = 0.1, {N['seeds']} seeds)", "",
              "| setting | noise sd | n | teacher / true-loading error ratio (m1) | teacher | true loadings | none |",
              "|---|---|---|---|---|---|---|"]
    for setting in ("no_split", "split"):
        v = N[setting]
        for i, noise in enumerate(v["noises"]):
            for j, n in enumerate(N["n"]):
                lines.append(f"| {setting} | {noise:g} | {n} | {v['ratio']['mean'][i][j]:.3f} ± {v['ratio']['se'][i][j]:.3f} | "
                             f"{v['teacher']['mean'][i][j]:.4f} | {v['oracle']['mean'][i][j]:.4f} | {v['none']['mean'][i][j]:.4f} |")
    lines += ["", "With the split the student sees half the pairs, so about sqrt(2) of its ratio is the split itself."]
    L = N["low_snr_eta_sweep"]
    lines += ["", "Noise sd 1, n = 10^5: error x sqrt(eta n) against eta = " + ", ".join(f"{e:.3g}" for e in L["etas"]) + ":",
              "", "| method | " + " | ".join(f"{e:.3g}" for e in L["etas"]) + " |", "|---|" + "---|" * len(L["etas"])]
    for key, vals in L["sqrt_eta_n_times_error"].items():
        lines.append(f"| {key} | " + " | ".join(f"{v:.2f}" for v in vals) + " |")
    H = results["heteroskedastic"]
    lines += ["", f"## Heteroskedastic noise (d = 10, r = 4, eta = 0.3; population errors, {H['draws']} draws per law)", "",
              "| noise level | ratio | theta = 0 | theta = r/2 | no filtering (Monte Carlo floor) |", "|---|---|---|---|---|"]
    for level, v in H["population_error_m1"].items():
        for i, ratio in enumerate(H["ratios"]):
            lines.append(f"| {level[6:]} | {ratio} | {v['oracle_0']['mean'][i]:.4f} ± {v['oracle_0']['se'][i]:.4f} | "
                         f"{v['oracle_half']['mean'][i]:.4f} ± {v['oracle_half']['se'][i]:.4f} | {v['none']['mean'][i]:.4f} |")
    E = H["sample_errors_m1"]
    lines += ["", f"Samples at ratio {E['ratio']}, level {E['level']:g} (modality 1):", "", "| n | none | teacher theta = 0 | true loadings theta = 0 |",
              "|---|---|---|---|"]
    for i, n in enumerate(E["n"]):
        lines.append(f"| {n} | {E['none']['mean'][i]:.4f} | {E['teacher_0']['mean'][i]:.4f} | {E['oracle_0']['mean'][i]:.4f} |")
    M = results["small_teacher"]
    lines += ["", f"## A teacher trained on few pairs (filtering n = {M['n']} other pairs, {M['seeds']} seeds, modality 1)", ""]
    for setting, v in M["by_setting"].items():
        lines += [f"{setting}, kept fraction {v['fraction']:g}:", "",
                  "| teacher pairs | student | teacher itself | true-loading filter | no filtering |", "|---|---|---|---|---|"]
        for i, nt in enumerate(M["n_teacher"]):
            lines.append(f"| {nt} | {v['teacher']['mean'][i]:.4f} | {v['teacher_alone']['mean'][i]:.4f} | "
                         f"{v['oracle']['mean'][i]:.4f} | {v['none']['mean'][i]:.4f} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a check that the script runs)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    cfg = full_settings(args.quick)
    start = time.perf_counter()
    results, timings = {"settings": cfg, "setting": fx.SETTINGS}, {}
    for name, fn in (("rates", rates), ("slopes_in_n", slopes_in_n), ("switch", switch), ("table1", table1),
                     ("teacher_snr", teacher_snr), ("heteroskedastic", heteroskedastic),
                     ("small_teacher", small_teacher)):
        t = time.perf_counter()
        out = fn(cfg)
        if name == "rates":
            out, res, pred = out
        results[name] = out
        timings[name] = time.perf_counter() - t
        print(f"{name}: {timings[name]:.0f} s", file=sys.stderr, flush=True)
    results["command"] = "python experiments/filtering_rates.py" + (" --quick" if args.quick else "")
    results["wall_time_s"] = time.perf_counter() - start
    results["timings_s"] = timings
    stem = "filtering_rates" + ("_quick" if args.quick else "")
    files.write_atomic(args.out / f"{stem}.json", json.dumps(results, indent=1))
    files.write_atomic(args.out / f"{stem}.md", markdown(results))
    display.use_house_style()
    fig = fx.plot_rates(res, cfg["n"], predicted={"none": pred["none"], "oracle_0": pred["oracle_0"]})
    files.savefig_atomic(fig, args.out / f"{stem}.png")
    print(markdown(results))


if __name__ == "__main__":
    main()
