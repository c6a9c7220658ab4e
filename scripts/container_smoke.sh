#!/usr/bin/env bash
# Build the DL Lab image and serve it once, on a machine with no Docker engine:
# buildah (chroot isolation) builds, podman (runc) runs. The Debian base image is made
# locally with debootstrap, so nothing but Debian's and Python's package registries is used.
#
#   bash scripts/container_smoke.sh            # build + run + check /_stcore/health and the home page
#   KEEP=1 bash scripts/container_smoke.sh     # leave the container running afterwards
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=${WORK:-/var/tmp/dl-lab-container}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PORT=${PORT:-18501}
IMAGE=localhost/dl-lab:smoke
log() { printf '[smoke %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

need=()
for tool in buildah podman runc debootstrap; do command -v "$tool" >/dev/null || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah podman runc debootstrap >/dev/null
fi
mkdir -p "$WORK"

# 1) a Debian bookworm base, made locally
if ! podman image exists localhost/debian:bookworm-local; then
  log "debootstrap bookworm (minbase)"
  rm -rf "$WORK/rootfs"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1
  tar -C "$WORK/rootfs" -c . | podman import - localhost/debian:bookworm-local >/dev/null
fi

# 2) a python base that behaves like python:3.11-slim (pip on PATH, no PEP 668 marker)
if ! podman image exists localhost/dl-lab-python:3.11; then
  log "building the python base"
  cat >"$WORK/Containerfile.python" <<'CF'
FROM localhost/debian:bookworm-local
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv ca-certificates && rm -rf /var/lib/apt/lists/* \
 && python3 -m venv /opt/py
ENV PATH=/opt/py/bin:$PATH
CF
  buildah bud --isolation chroot --format docker -f "$WORK/Containerfile.python" \
    -t localhost/dl-lab-python:3.11 "$WORK" >"$WORK/python-base.log" 2>&1
fi

# 3) the app image from the repo's Dockerfile; torch from this machine's wheel folder
WHEELS=$(python3 -m pip config list 2>/dev/null | sed -n "s/.*find-links='\(.*\)'/\1/p" | head -n1)
WHEELS=${WHEELS:-/opt/wheels}
CERT=/etc/ssl/certs/ca-certificates.crt
log "building the app image (wheels from $WHEELS)"
t0=$(date +%s)
buildah bud --isolation chroot --format docker \
  --build-arg BASE_IMAGE=localhost/dl-lab-python:3.11 \
  --build-arg TORCH_INDEX_URL= \
  --build-arg PIP_EXTRA_ARGS="--find-links /wheels --cert /host-ca.crt" \
  -v "$WHEELS:/wheels:ro" -v "$CERT:/host-ca.crt:ro" \
  -t "$IMAGE" "$ROOT" >"$WORK/app-build.log" 2>&1 || { tail -n 40 "$WORK/app-build.log"; exit 1; }
log "image built in $(( $(date +%s) - t0 )) s: $(podman image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"

# 4) run it and check it
podman rm -f dl-lab-smoke >/dev/null 2>&1 || true
podman --runtime runc run -d --name dl-lab-smoke --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
  -p "127.0.0.1:$PORT:8501" "$IMAGE" >/dev/null
cleanup() { [ "${KEEP:-0}" = 1 ] || podman rm -f dl-lab-smoke >/dev/null 2>&1 || true; }
trap cleanup EXIT
log "container user: $(podman exec dl-lab-smoke id -un)"
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$PORT/_stcore/health" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
log "health: $(curl -fsS "http://127.0.0.1:$PORT/_stcore/health")"
curl -fsS "http://127.0.0.1:$PORT/" | grep -q '<div id="root">' && log "index.html served"
if [ -x /usr/bin/chromium ] && [ -x "$ROOT/.venv/bin/python" ]; then
  "$ROOT/.venv/bin/python" - "$PORT" <<'PY'
import sys, time
from playwright.sync_api import sync_playwright
port = sys.argv[1]
args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
with sync_playwright() as p:
    b = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
    page = b.new_page()
    t0 = time.perf_counter()
    page.goto(f"http://127.0.0.1:{port}/?lang=zh")
    page.get_by_role("heading", name="课程地图").wait_for(timeout=60_000)
    print(f"[smoke] home page rendered in the browser in {time.perf_counter() - t0:.2f} s (zh)")
    b.close()
PY
fi
log "podman healthcheck: $(podman healthcheck run dl-lab-smoke >/dev/null 2>&1 && echo healthy || echo 'not yet healthy')"
log "OK"
