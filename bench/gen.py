"""Generate the benchmark panels as Parquet (deterministic, seeded).

simple: N firms x 10 years, firm + year effects, 12 regressors, errors correlated within firm.
hard:   worker-years with worker + firm + year effects on a sparse mobility graph (workers
        rarely move between firms), 4 regressors.

Usage: python gen.py simple|hard N_ROWS OUT.parquet
"""
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def simple(n_rows: int, rng: np.random.Generator) -> pa.Table:
    years = 10
    firms = n_rows // years
    firm = np.repeat(np.arange(firms, dtype=np.int64), years)
    year = np.tile(np.arange(2000, 2000 + years, dtype=np.int64), firms)
    n = firm.size
    firm_effect = rng.normal(size=firms)[firm]
    year_effect = rng.normal(size=years)[year - 2000]
    cols = {"firm": firm, "year": year}
    y = firm_effect + 0.5 * year_effect
    for j in range(12):
        x = rng.normal(size=n) + 0.5 * firm_effect + 0.1 * j * year_effect
        cols[f"x{j + 1}"] = x
        y = y + (0.1 * (j + 1) - 0.6) * x
    y = y + rng.normal(size=firms)[firm] * 0.5 + rng.normal(size=n)
    cols["y"] = y
    return pa.table(cols)


def hard(n_rows: int, rng: np.random.Generator) -> pa.Table:
    years = 5
    workers = n_rows // years
    firms = max(workers // 10, 10)
    worker = np.repeat(np.arange(workers, dtype=np.int64), years)
    year = np.tile(np.arange(2000, 2000 + years, dtype=np.int64), workers)
    # Each worker starts at a firm and moves with probability 0.05 a year: a sparse graph.
    start = rng.integers(0, firms, size=workers)
    moves = rng.random(size=(workers, years)) < 0.05
    moves[:, 0] = False
    jumps = np.where(moves, rng.integers(1, firms, size=(workers, years)), 0)
    firm = ((start[:, None] + np.cumsum(jumps, axis=1)) % firms).ravel().astype(np.int64)
    n = worker.size
    we = rng.normal(size=workers)[worker]
    fe = rng.normal(size=firms)[firm]
    ye = rng.normal(size=years)[year - 2000]
    cols = {"worker": worker, "firm": firm, "year": year}
    y = we + fe + ye
    for j in range(4):
        x = rng.normal(size=n) + 0.3 * we - 0.2 * fe
        cols[f"x{j + 1}"] = x
        y = y + (0.25 * (j + 1)) * x
    cols["y"] = y + rng.normal(size=n)
    return pa.table(cols)


if __name__ == "__main__":
    kind, n_rows, out = sys.argv[1], int(float(sys.argv[2])), sys.argv[3]
    rng = np.random.default_rng(20251130)
    table = {"simple": simple, "hard": hard}[kind](n_rows, rng)
    pq.write_table(table, out)
    print(f"wrote {out}: {table.num_rows} rows", file=sys.stderr)
