#!/usr/bin/env bash
# Install the dev requirements into .venv (once) and run the whole test suite:
# dlcore unit tests, AppTest page tests in both languages, and the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q -r requirements-dev.txt
.venv/bin/python -m pytest -q -p no:cacheprovider --timeout=600 "$@"
