"""Test-wide settings: CPU-only, deterministic, quiet."""

import os
import tempfile

import pytest

os.environ.setdefault("DL_LAB_TORCH_THREADS", "1")
# the class store's default SQLite file goes to a scratch folder, never into the checkout
os.environ.setdefault("DL_LAB_DATA_DIR", tempfile.mkdtemp(prefix="dl-lab-test-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("STREAMLIT_LOG_LEVEL", "error")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
import torch  # noqa: E402

# As the server runs (ui.frame.configure_torch): one torch thread, so a model trained here in the test process and the
# same model trained by a page in a training worker (one thread) give the same floats bit for bit.
torch.set_num_threads(int(os.environ["DL_LAB_TORCH_THREADS"]))

import tests.support  # noqa: E402,F401  (pins AppTest to st.navigation mode; see support.py)

# The suite runs on two pytest-xdist workers (scripts/test.sh). These tests drive a real server (and most a real
# chromium) and wait on what it draws: they all go to one worker, in turn, so two never race each other on the two
# cores; the other worker runs everything else meanwhile. (xdist's own ``--dist loadgroup`` cannot be used: with
# pytest 9 its ``xdist_group`` mark is silently ignored.)
SERVER_TESTS = ("tests/e2e/", "tests/hostile/test_protocol_fuzz.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class ServerTestsInTurn(LoadScopeScheduling):
        """One work unit for all the server tests (sent first: the largest unit goes first), one per other test."""

        def _split_scope(self, nodeid: str) -> str:
            return "server" if nodeid.startswith(SERVER_TESTS) else nodeid

    return ServerTestsInTurn(config, log)
