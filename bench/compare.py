"""Run keju and pyfixest on the same Parquet file and model; check agreement; print times.

Usage: python compare.py KEJU_BIN DATA.parquet "FORMULA" CLUSTER [map|lsmr ...]
Load and fit times are reported separately. keju's phases come from `keju fit --timings`.
"""
import json
import resource
import subprocess
import sys
import time


def run_keju(bin_path, data, formula, cluster):
    t0 = time.perf_counter()
    proc = subprocess.run(
        # pyfixest counts one redundant fixed-effect level per fixed effect after the first;
        # keju's default (reghdfe's firstpair) counts connected components exactly, so the
        # SEs are compared under pyfixest's rule.
        [bin_path, "fit", formula, "--data", data, "--cluster", cluster, "--format", "json",
         "--timings", "--fe-redundancy", "simple"],
        capture_output=True, text=True, check=True,
    )
    wall = time.perf_counter() - t0
    phases = {}
    for line in proc.stderr.splitlines():
        if line.startswith("timing "):
            _, name, secs, _ = line.split()
            phases[name] = float(secs)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return json.loads(proc.stdout), wall, phases, usage.ru_maxrss / 1024


def run_pyfixest(data, formula, cluster, backend):
    import pandas as pd
    import pyfixest as pf

    t0 = time.perf_counter()
    df = pd.read_parquet(data)
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    # Tolerances tightened so that results agree to 1e-6 (pyfixest's default MAP tol is 1e-6).
    if backend == "map":
        demeaner = pf.MapDemeaner(fixef_tol=1e-10, fixef_maxiter=100_000)
    elif backend == "lsmr":
        demeaner = pf.LsmrDemeaner(fixef_atol=1e-10, fixef_btol=1e-10, fixef_maxiter=100_000)
    else:
        raise ValueError(f"unknown backend {backend}")
    fit = pf.feols(formula, data=df, vcov={"CRV1": cluster}, demeaner=demeaner)
    coefs = fit.coef()
    ses = fit.se()
    t_fit = time.perf_counter() - t1
    return dict(coefs), dict(ses), t_load, t_fit


def main():
    bin_path, data, formula, cluster = sys.argv[1:5]
    backends = sys.argv[5:] or ["map", "lsmr"]
    keju, k_wall, phases, k_rss = run_keju(bin_path, data, formula, cluster)
    print(f"\n## {data}: {formula}, cluster by {cluster}, N = {keju['nobs']}")
    print(f"keju: {k_wall:.3f} s end to end (process), peak RSS {k_rss:.0f} MiB; phases: "
          + ", ".join(f"{k} {v:.3f}s" for k, v in phases.items()))
    kc = {c["term"]: c for c in keju["coefficients"]}
    print("| backend | pyfixest load s | pyfixest fit s | pyfixest total s | keju total s | ratio | max rel diff coef | max rel diff se |")
    print("|---|---|---|---|---|---|---|---|")
    for backend in backends:
        try:
            coefs, ses, t_load, t_fit = run_pyfixest(data, formula, cluster, backend)
        except Exception as e:  # a backend that is not installed
            print(f"| {backend} | failed: {type(e).__name__}: {str(e)[:80]} |")
            continue
        dc = max(abs(kc[t]["estimate"] - b) / abs(b) for t, b in coefs.items())
        ds = max(abs(kc[t]["std_error"] - s) / abs(s) for t, s in ses.items())
        total = t_load + t_fit
        print(f"| {backend} | {t_load:.3f} | {t_fit:.3f} | {total:.3f} | {k_wall:.3f} | {total / k_wall:.1f}x | {dc:.1e} | {ds:.1e} |")
        if dc > 1e-6 or ds > 1e-6:
            print(f"WARNING: keju and pyfixest ({backend}) differ by more than 1e-6")


if __name__ == "__main__":
    main()
