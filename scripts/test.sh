#!/usr/bin/env bash
# Install the dev requirements into .venv (once) and run the whole test suite:
# dlcore unit tests, AppTest page tests in both languages, and the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q -r requirements-dev.txt
# Two workers (pytest-xdist), one per core of the CI machine: the page tests spend much of their time waiting on
# Streamlit's script thread, so two at once nearly halve the run. The browser tests and the protocol fuzzer, which
# drive a real server, run in turn on one worker (tests/conftest.py).
# DL_LAB_TEST_WORKERS=0 runs everything in this one process.
.venv/bin/python -m pytest -q -p no:cacheprovider --timeout=600 -n "${DL_LAB_TEST_WORKERS:-2}" --durations=25 "$@"
