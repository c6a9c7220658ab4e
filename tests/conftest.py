"""Test-wide settings: CPU-only, deterministic, quiet."""

import os
import tempfile

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
