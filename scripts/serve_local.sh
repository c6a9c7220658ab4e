#!/usr/bin/env bash
# N Streamlit processes behind nginx on this machine, as docker-compose.yml runs them (no Docker needed):
#   PROCESSES=2 PORT=8590 bash scripts/serve_local.sh     # then open http://127.0.0.1:8590
# Prints "PIDS <pid> <pid> ..." once every process is healthy; Ctrl-C (or SIGTERM) stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${PROCESSES:-2}
PORT=${PORT:-8590}
FIRST=${FIRST_BACKEND_PORT:-8601}
# BACKEND_PORTS="p1 p2 ...": the processes' own ports (default FIRST, FIRST+1, ...)
read -r -a ports <<<"${BACKEND_PORTS:-$(seq -s ' ' "$FIRST" $((FIRST + N - 1)))}"
[ "${#ports[@]}" = "$N" ] || { echo "BACKEND_PORTS names ${#ports[@]} ports for $N processes" >&2; exit 2; }
PY=${PY:-.venv/bin/python}
RUN=$(mktemp -d)
chmod 755 "$RUN"   # nginx workers (nobody when started as root) keep their caches in here
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; [ -f "$RUN/nginx.pid" ] && kill "$(cat "$RUN/nginx.pid")" 2>/dev/null; rm -rf "$RUN"' EXIT
servers=""
for i in $(seq 0 $((N - 1))); do
  p=${ports[$i]}
  DL_LAB_TORCH_THREADS=${DL_LAB_TORCH_THREADS:-1} DL_LAB_HEAVY_SLOTS=${DL_LAB_HEAVY_SLOTS:-1} \
    $PY -m streamlit run app.py --server.headless=true --server.address=127.0.0.1 --server.port=$p \
    --server.fileWatcherType=none --browser.gatherUsageStats=false >"$RUN/streamlit-$p.log" 2>&1 &
  pids+=($!)
  servers="$servers        server 127.0.0.1:$p;\n"
done
for i in $(seq 0 $((N - 1))); do
  healthy=0
  for _ in $(seq 120); do
    curl -sf --max-time 2 "http://127.0.0.1:${ports[$i]}/_stcore/health" >/dev/null && { healthy=1; break; }
    kill -0 "${pids[$i]}" 2>/dev/null || break   # it ended: no use waiting
    grep -q "is not available" "$RUN/streamlit-${ports[$i]}.log" 2>/dev/null && break   # its port was taken
    sleep 0.5
  done
  if [ "$healthy" != 1 ]; then
    echo "UNHEALTHY process on port ${ports[$i]}; its log:" >&2
    tail -n 20 "$RUN/streamlit-${ports[$i]}.log" >&2 || true
    exit 1
  fi
done
# deploy/nginx.conf with this machine's backends, port and scratch directories
sed -e "s#        server dl-lab:8501;.*#$servers#" -e "s#listen 8501;#listen $PORT;#" -e "s#/tmp/#$RUN/#g" \
  deploy/nginx.conf >"$RUN/nginx.conf"
/usr/sbin/nginx -c "$RUN/nginx.conf" -e "$RUN/nginx-error.log" -g "daemon on;"
echo "PIDS ${pids[*]}"
wait "${pids[@]}"
