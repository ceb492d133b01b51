#!/usr/bin/env python3
"""Reduce the Tushare stock_basic list to what `keju simulate` needs (no names, no codes).

Input:  ../shared/data/raw/firms/tushare_stock_basic_macropage.csv (Tushare stock_basic via
        AFAN-LIFE/macropage, CC BY 4.0)
Output: data/firms_tushare.csv with columns exchange, area, industry, list_date, delist_date,
        one row per Shanghai (SH) or Shenzhen (SZ) listing, in the input order. Beijing (BJ)
        listings are dropped. Delisted firms have empty area and industry in the source.
Usage:  python3 data/build/make_firms.py [--raw PATH]
"""
import csv
import sys
from pathlib import Path

here = Path(__file__).resolve().parent
raw = Path(sys.argv[sys.argv.index("--raw") + 1]) if "--raw" in sys.argv else here.parents[2] / "shared/data/raw"
src = raw / "firms/tushare_stock_basic_macropage.csv"
out = here.parent / "firms_tushare.csv"
with open(src, encoding="utf-8") as f, open(out, "w", encoding="utf-8", newline="") as g:
    w = csv.writer(g, lineterminator="\n")
    w.writerow(["exchange", "area", "industry", "list_date", "delist_date"])
    for r in csv.DictReader(f):
        ex = r["ts_code"].rsplit(".", 1)[-1]
        if ex in ("SH", "SZ"):
            w.writerow([ex, r["area"], r["industry"], r["list_date"], r["delist_date"]])
