#!/usr/bin/env python3
"""Derive the small CSV files in keju's data/ from the public raw data.

Usage (from the repository root, or anywhere):

    python3 data/build/make_data.py [--raw PATH_TO_shared/data/raw]

The default raw path is ../shared/data/raw relative to the repository root
(i.e. /work/shared/data/raw next to /work/main). Python standard library only.
The output is deterministic: running it twice gives byte-identical files.

Writes (see data/README.md for sources, licences and gaps):
    data/jinshi_prefectures.csv
    data/places_modern.csv
    data/temple_proxy_counties.csv
    data/confucian_centres.csv
    data/printing_centres_illustrative.csv
    data/trad_simp.csv
and prints a summary (rows kept, rows dropped and why) to stdout.
"""

import argparse
import csv
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)
REPO = os.path.dirname(DATA)


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(name, header, rows):
    path = os.path.join(DATA, name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(r)
    print(f"wrote data/{name}: {len(rows)} rows")


def jinshi(raw):
    """One row per historical prefecture: Ming and Qing counts apart, with coordinates.

    Source: jinshi_by_prefecture_mingqing.csv (Ming and Qing rows of the same prefecture
    merged on name + rounded coordinates). Rows without coordinates are dropped and reported.
    The per-dynasty file is read to check that the totals agree.
    """
    merged = read_csv(os.path.join(raw, "jinshi_cbdb", "jinshi_by_prefecture_mingqing.csv"))
    by_dyn = read_csv(os.path.join(raw, "jinshi_cbdb", "jinshi_by_prefecture_dynasty.csv"))
    tot = {"ming": 0, "qing": 0}
    for r in by_dyn:
        tot[r["dynasty"]] += int(r["jinshi_count"])
    m_ming = sum(int(r["jinshi_ming"]) for r in merged)
    m_qing = sum(int(r["jinshi_qing"]) for r in merged)
    assert (m_ming, m_qing) == (tot["ming"], tot["qing"]), "merged and per-dynasty totals differ"
    rows, dropped = [], []
    for r in merged:
        ming, qing, total = int(r["jinshi_ming"]), int(r["jinshi_qing"]), int(r["jinshi_total"])
        assert ming + qing == total, r
        if not r["lat"] or not r["lng"]:
            dropped.append(r)
            continue
        rows.append([r["prefecture"], r["province"], f"{float(r['lat']):.6f}",
                     f"{float(r['lng']):.6f}", ming, qing, total])
    rows.sort(key=lambda x: (-x[6], x[0], x[2], x[3]))
    write_csv("jinshi_prefectures.csv",
              ["name", "province", "lat", "lon", "jinshi_ming", "jinshi_qing", "jinshi_total"], rows)
    kept_m = sum(r[4] for r in rows)
    kept_q = sum(r[5] for r in rows)
    print(f"  jinshi kept: ming {kept_m} of {m_ming}, qing {kept_q} of {m_qing}")
    for r in dropped:
        print(f"  dropped (no coordinates): {r['prefecture']} ({r['province']}) "
              f"ming {r['jinshi_ming']} qing {r['jinshi_qing']}")


PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
# Current county-level cities that cpca lists without coordinates; other coordinate-less rows
# (abolished units such as 邯郸县, 江东区, 金明区, and 清江浦区) are dropped and reported.
FILL_FROM_PYECHARTS = {"定州市", "辛集市"}
MUNICIPALITIES = {"11", "12", "31", "50", "81", "82"}  # Beijing, Tianjin, Shanghai, Chongqing, HK, Macau


def places(raw):
    """Modern places for geocoding: municipalities, prefecture-level units, county-level units."""
    rows = read_csv(os.path.join(raw, "geo_modern", "cpca_adcodes.csv"))
    with open(os.path.join(raw, "geo_modern", "pyecharts_city_coordinates.json"), encoding="utf-8") as f:
        pyecharts = json.load(f)
    by_code = {r["adcode"][:6]: r for r in rows}
    out, dropped, filled = [], [], []
    for r in rows:
        code = r["adcode"][:6]
        if r["adcode"][6:] != "000000":
            dropped.append((r, "sub-county code"))
            continue
        prov_code, pref_code = code[:2] + "0000", code[:4] + "00"
        province = by_code[prov_code]["name"]
        if code == prov_code:
            if code[:2] not in MUNICIPALITIES:
                continue  # provinces are not places a firm is registered in
            level, prefecture = "municipality", r["name"]
        elif code == pref_code:
            level, prefecture = "prefecture", r["name"]
        else:
            level = "county"
            pref = by_code.get(pref_code)
            if code[:2] in MUNICIPALITIES or pref is None or pref["name"] in PLACEHOLDERS:
                prefecture = province if code[:2] in MUNICIPALITIES else ""
            else:
                prefecture = pref["name"]
        if r["name"] in PLACEHOLDERS:
            continue
        lon, lat = r["longitude"], r["latitude"]
        if not lon or not lat:
            if r["name"] in FILL_FROM_PYECHARTS and r["name"] in pyecharts:
                lon, lat = pyecharts[r["name"]]
                filled.append(r["name"])
            else:
                dropped.append((r, "no coordinates"))
                continue
        out.append([code, r["name"], level, province, prefecture,
                    f"{float(lat):.6f}", f"{float(lon):.6f}"])
    out.sort(key=lambda x: x[0])
    write_csv("places_modern.csv",
              ["adcode", "name", "level", "province", "prefecture", "lat", "lon"], out)
    for name in filled:
        print(f"  coordinates filled from pyecharts: {name}")
    for r, why in dropped:
        print(f"  dropped ({why}): {r['adcode']} {r['name']}")
    counties = [[x[1], x[3], x[4], x[5], x[6], x[0]] for x in out if x[2] == "county"]
    write_csv("temple_proxy_counties.csv",
              ["name", "province", "prefecture", "lat", "lon", "adcode"], counties)
    return out


def centres(places_rows):
    write_csv("confucian_centres.csv", ["name", "name_en", "lat", "lon", "note"],
              [["曲阜", "Qufu", "35.60", "116.99",
                "home of Confucius; single default centre (the paper does not name its centres)"]])
    coord = {r[1]: (r[5], r[6]) for r in places_rows}
    # (name, English, modern unit whose cpca coordinates stand in, note)
    sites = [
        ("建陽", "Jianyang", "建阳区", "Ming-Qing commercial printing (Masha 麻沙, Shufang 書坊); Nanping 建阳区 centroid"),
        ("四堡", "Sibao", "连城县", "Qing commercial printing village; Liancheng 连城县 county point, Sibao lies ~30 km north"),
        ("南京", "Nanjing", "南京市", "Ming-Qing publishing centre; city point"),
        ("蘇州", "Suzhou", "苏州市", "Ming-Qing publishing centre; city point"),
        ("杭州", "Hangzhou", "杭州市", "Ming-Qing publishing centre; city point"),
        ("徽州", "Huizhou", "歙县", "Huizhou prefectural seat was at She county 歙县; county point"),
        ("北京", "Beijing", "北京市", "Ming-Qing publishing centre (Liulichang); city point"),
    ]
    rows = []
    for name, en, unit, note in sites:
        lat, lon = coord[unit]
        rows.append([name, en, lat, lon, "ILLUSTRATIVE, not the paper's list: " + note])
    write_csv("printing_centres_illustrative.csv", ["name", "name_en", "lat", "lon", "note"], rows)


def trad_simp(places_rows):
    """Traditional -> simplified pairs for the characters of modern place names (OpenCC)."""
    used = set("".join(r[1] + r[3] + r[4] for r in places_rows))
    used |= set("市地区自治州盟县旗省")
    pairs = {}
    with open(os.path.join(HERE, "vendor", "opencc_TSCharacters.txt"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            trad, targets = line.rstrip("\n").split("\t")
            targets = targets.split(" ")
            if trad in used:
                continue  # a character that a modern name uses is never rewritten
            hit = [t for t in targets if t in used]
            if hit and hit[0] != trad:
                pairs[trad] = hit[0]
    rows = sorted(pairs.items())
    write_csv("trad_simp.csv", ["traditional", "simplified"], rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--raw", default=os.path.join(os.path.dirname(REPO), "shared", "data", "raw"))
    args = ap.parse_args()
    if not os.path.isdir(args.raw):
        sys.exit(f"raw data folder not found: {args.raw} (pass --raw)")
    jinshi(args.raw)
    p = places(args.raw)
    centres(p)
    trad_simp(p)


if __name__ == "__main__":
    main()
