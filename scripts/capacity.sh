#!/usr/bin/env bash
# The classroom measurements quoted in the README's "Capacity" section, run on a quiet machine:
# per-lesson cost (10 students each), the calculator lessons at 30 and 60 students (and at 60 again with a real
# chromium sampling end-to-end latency on the same cores), the training lessons at 30, and the 10-minute soak
# at 30 students over every lesson. Reports land in ${OUT:-artifacts/capacity}.
# PROCESSES=2 runs the class runs against that many Streamlit processes behind nginx (scripts/serve_local.sh,
# the docker-compose.yml set-up); the default is one process started by the load generator itself.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-artifacts/capacity}
mkdir -p "$OUT"
PY=.venv/bin/python
LESSONS=${LESSONS:-"optimizer_race activations receptive_field convolution normalization lstm_gates attention gan adversarial"}
CALC="receptive_field convolution activations attention"
TRAIN="gan lstm_gates normalization"
N=${PROCESSES:-1}
TAG=""
target=()
serve() {   # start N processes behind nginx; sets target=(--url ... --pids ...)
  PROCESSES=$N PORT=8590 bash scripts/serve_local.sh >"$OUT/serve.log" 2>&1 &
  SERVE=$!
  for _ in $(seq 240); do grep -q '^PIDS' "$OUT/serve.log" 2>/dev/null && break; sleep 0.5; done
  target=(--url http://127.0.0.1:8590 --pids $(grep '^PIDS' "$OUT/serve.log" | cut -d' ' -f2-))
}
stop() { kill "$SERVE" 2>/dev/null || true; wait "$SERVE" 2>/dev/null || true; }
if [ "$N" -gt 1 ]; then TAG="-p$N"; fi
if [ "${SKIP_PER_LESSON:-0}" != 1 ]; then
  for l in $LESSONS; do
    $PY -m bench.loadgen --students 10 --duration 60 --pages "$l" --json "$OUT/lesson-$l.json" > "$OUT/lesson-$l.txt"
  done
fi
run() {   # name, then loadgen arguments: a fresh server (or set of servers) for every run
  local name=$1 rc=0; shift
  if [ "$N" -gt 1 ]; then serve; fi
  $PY -m bench.loadgen "$@" "${target[@]}" --json "$OUT/$name$TAG.json" > "$OUT/$name$TAG.txt" || rc=$?
  if [ "$N" -gt 1 ]; then stop; fi
  [ "$rc" = 0 ] || echo "$name: load generator exit status $rc (a failed soak says why in $OUT/$name$TAG.txt)"
}
run calc-30 --students 30 --duration 120 --pages $CALC
run calc-60 --students 60 --duration 120 --pages $CALC
run calc-60-browser --students 60 --duration 120 --pages $CALC --browsers 1   # + a real chromium on the same cores
run train-30 --students 30 --duration 120 --pages $TRAIN
[ "${SKIP_SOAK:-0}" = 1 ] || run soak-30 --students 30 --duration 600 --soak
tail -n 4 "$OUT"/*"$TAG".txt
