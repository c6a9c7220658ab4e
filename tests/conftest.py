"""Test-wide settings: CPU-only, deterministic, quiet."""

import os

os.environ.setdefault("DL_LAB_TORCH_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("STREAMLIT_LOG_LEVEL", "error")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
import tests.support  # noqa: E402,F401  (pins AppTest to st.navigation mode; see support.py)
