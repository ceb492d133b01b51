#!/usr/bin/env bash
# Benchmark keju against pyfixest on the same files, in one run.
# Usage: bash bench/run.sh [N_ROWS] (default 1e6). Installs pyfixest into a virtual
# environment on first use (~/.cache/keju-bench-venv). Not part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
VENV=${KEJU_BENCH_VENV:-$HOME/.cache/keju-bench-venv}
DATA=${KEJU_BENCH_DATA:-$HOME/.cache/keju-bench-data}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/keju-target}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q pyfixest pyarrow
fi
"$VENV/bin/python" -c "import pyfixest, sys; print('pyfixest', pyfixest.__version__, 'python', sys.version.split()[0])"
cargo build --quiet
BIN="$CARGO_TARGET_DIR/debug/keju"
mkdir -p "$DATA"
for kind in simple hard; do
  f="$DATA/$kind-$N.parquet"
  [ -f "$f" ] || "$VENV/bin/python" bench/gen.py "$kind" "$N" "$f"
done
X12=$(printf 'x%d + ' $(seq 1 12)); X12=${X12% + }
"$VENV/bin/python" bench/compare.py "$BIN" "$DATA/simple-$N.parquet" "y ~ $X12 | firm + year" firm map lsmr
# pyfixest's MAP backend takes minutes on the hard panel: set KEJU_BENCH_HARD_MAP=1 to include it.
HARD_BACKENDS="lsmr"
[ "${KEJU_BENCH_HARD_MAP:-0}" = 1 ] && HARD_BACKENDS="lsmr map"
"$VENV/bin/python" bench/compare.py "$BIN" "$DATA/hard-$N.parquet" "y ~ x1 + x2 + x3 + x4 | worker + firm + year" worker $HARD_BACKENDS
# The whole paper replication (33 models, 4 formats each, on the shipped panel).
OUT=$(mktemp -d)
echo
TIMEFORMAT="replicate specs/hu2025.toml (whole paper): %R s wall"
time "$BIN" replicate specs/hu2025.toml --out "$OUT" --quiet
rm -rf "$OUT"
