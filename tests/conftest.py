"""Test-wide settings: CPU-only, deterministic, quiet."""

import os
import tempfile

os.environ.setdefault("DL_LAB_TORCH_THREADS", "1")
# the class store's default SQLite file goes to a scratch folder, never into the checkout
os.environ.setdefault("DL_LAB_DATA_DIR", tempfile.mkdtemp(prefix="dl-lab-test-"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("STREAMLIT_LOG_LEVEL", "error")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
import tests.support  # noqa: E402,F401  (pins AppTest to st.navigation mode; see support.py)
