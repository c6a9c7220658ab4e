#!/usr/bin/env bash
# The classroom measurements quoted in the README's "Capacity" section, run on a quiet machine:
# per-lesson cost (10 students each), the calculator lessons at 30 and 60 students, the training lessons
# at 30, and the 10-minute soak at 30 students over every lesson. Reports land in ${OUT:-artifacts/capacity}.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-artifacts/capacity}
mkdir -p "$OUT"
PY=.venv/bin/python
LESSONS=${LESSONS:-"optimizer_race activations receptive_field convolution normalization lstm_gates attention gan adversarial"}
CALC="receptive_field convolution activations attention"
TRAIN="gan lstm_gates normalization"
if [ "${SKIP_PER_LESSON:-0}" != 1 ]; then
  for l in $LESSONS; do
    $PY -m bench.loadgen --students 10 --duration 60 --pages "$l" --json "$OUT/lesson-$l.json" > "$OUT/lesson-$l.txt"
  done
fi
$PY -m bench.loadgen --students 30 --duration 120 --pages $CALC --json "$OUT/calc-30.json" > "$OUT/calc-30.txt"
$PY -m bench.loadgen --students 60 --duration 120 --pages $CALC --json "$OUT/calc-60.json" --browsers 1 > "$OUT/calc-60.txt"
$PY -m bench.loadgen --students 30 --duration 120 --pages $TRAIN --json "$OUT/train-30.json" > "$OUT/train-30.txt"
$PY -m bench.loadgen --students 30 --duration 600 --soak --json "$OUT/soak-30.json" > "$OUT/soak-30.txt"
tail -n 4 "$OUT"/*.txt
