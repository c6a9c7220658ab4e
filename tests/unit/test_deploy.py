"""Deployment files validated offline: Kubernetes schemas, probes, affinity, shared cookie secret."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _load(name: str) -> dict:
    return yaml.safe_load((K8S / name).read_text())


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_matches_kubernetes_schema_strictly(path):
    exe = Path(sys.executable).parent / "kubernetes-validate"
    r = subprocess.run([str(exe), "--strict", "--quiet", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_kustomization_lists_every_manifest():
    listed = set(_load("kustomization.yaml")["resources"])
    assert listed == {p.name for p in MANIFESTS}


def test_deployment_probes_health_and_shares_cookie_secret():
    spec = _load("deployment.yaml")["spec"]["template"]["spec"]
    c = spec["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"]["path"] == "/_stcore/health"
    env = {e["name"]: e for e in c["env"]}
    assert env["STREAMLIT_SERVER_COOKIE_SECRET"]["valueFrom"]["secretKeyRef"]["name"] == "dl-lab-cookie"
    assert c["resources"]["limits"]["memory"] and c["resources"]["requests"]["cpu"]
    assert spec["securityContext"]["runAsNonRoot"] is True


def test_ingress_uses_cookie_affinity_and_hpa_targets_the_deployment():
    ann = _load("ingress.yaml")["metadata"]["annotations"]
    assert ann["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    hpa = _load("hpa.yaml")["spec"]
    assert hpa["scaleTargetRef"]["name"] == "dl-lab" and hpa["minReplicas"] >= 2


def test_dockerfile_runs_as_non_root_with_healthcheck_and_thread_env():
    text = (ROOT / "Dockerfile").read_text()
    assert "USER app" in text and "HEALTHCHECK" in text and "/_stcore/health" in text
    assert "DL_LAB_TORCH_THREADS" in text and "fileWatcherType" in text.replace("FILE_WATCHER_TYPE", "fileWatcherType")


def test_streamlit_config_is_safe():
    import tomllib

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["enableXsrfProtection"] is True
    assert cfg["server"]["maxUploadSize"] <= 5
    assert cfg["browser"]["gatherUsageStats"] is False
    assert cfg["client"]["showErrorDetails"] == "none"


def test_the_websocket_is_not_deflated_by_default():
    """Deflating every websocket message cost the 2-core server more than it saved a class (README, "Scale out"):
    the setting is written out, off, so that turning it on is a visible choice."""
    import tomllib

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["enableWebsocketCompression"] is False


def test_torch_threads_default_to_torch_locally_and_the_container_pins_one(monkeypatch):
    from ui.settings import THREADS_ENV, torch_threads_from_env

    for raw, want in [(None, None), ("auto", None), ("", None), ("3", 3), ("0", 1), ("999", 64), ("two", 1)]:
        if raw is None:
            monkeypatch.delenv(THREADS_ENV, raising=False)
        else:
            monkeypatch.setenv(THREADS_ENV, raw)
        assert torch_threads_from_env() == want, raw
    docker = re.search(r"^\s*DL_LAB_TORCH_THREADS=(\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    assert docker and docker.group(1) == "1"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["dl-lab"]["environment"]
    assert compose["DL_LAB_TORCH_THREADS"] == "1"
    env = _load("deployment.yaml")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert next(e["value"] for e in env if e["name"] == "DL_LAB_TORCH_THREADS") == "1"


def test_compose_runs_several_processes_behind_a_sticky_nginx():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    app, proxy = compose["dl-lab"], compose["proxy"]
    assert "ports" not in app and app["deploy"]["replicas"] == "${DL_LAB_PROCESSES:-2}"
    assert proxy["ports"] == ["8501:8501"] and "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert proxy["depends_on"]["dl-lab"]["condition"] == "service_healthy"
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "hash $cookie__streamlit_xsrf consistent;" in conf            # one browser, one process
    assert "proxy_set_header Upgrade $http_upgrade;" in conf and "proxy_http_version 1.1;" in conf
    assert "server dl-lab:8501;" in conf and "client_max_body_size 3m;" in conf


@pytest.mark.skipif(not Path("/usr/sbin/nginx").exists(), reason="nginx is not installed here")
def test_nginx_config_is_valid(tmp_path):
    conf = tmp_path / "nginx.conf"
    conf.write_text((ROOT / "deploy" / "nginx.conf").read_text().replace("dl-lab:8501", "127.0.0.1:8501"))
    out = subprocess.run(["/usr/sbin/nginx", "-t", "-c", str(conf), "-e", str(tmp_path / "error.log")],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr


def test_compose_shares_one_postgresql_class_store_between_processes():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app, pg = compose["services"]["dl-lab"], compose["services"]["postgres"]
    assert app["environment"]["DL_LAB_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in app["environment"]["DL_LAB_DATABASE_URL"]
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert pg["image"].startswith("postgres:") and "pg_isready" in " ".join(pg["healthcheck"]["test"])
    volume = pg["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]   # a named volume: the class's data outlives the container


def test_kubernetes_replicas_read_the_class_store_url_from_a_secret():
    docs = {(d["kind"], d["metadata"]["name"]): d for p in (ROOT / "deploy" / "k8s").glob("*.yaml")
            for d in yaml.safe_load_all(p.read_text()) if d and "metadata" in d}
    env = docs[("Deployment", "dl-lab")]["spec"]["template"]["spec"]["containers"][0]["env"]
    url = next(e for e in env if e["name"] == "DL_LAB_DATABASE_URL")
    assert url["valueFrom"]["secretKeyRef"] == {"name": "dl-lab-database", "key": "url"}
    secret = docs[("Secret", "dl-lab-database")]["stringData"]
    assert secret["url"].startswith("postgresql+psycopg://") and "@postgres:5432/" in secret["url"]
    pg = docs[("StatefulSet", "postgres")]["spec"]
    assert pg["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
    assert docs[("Service", "postgres")]["spec"]["ports"][0]["port"] == 5432


def test_the_proxy_hides_metrics_and_rate_limits_uploads_and_page_loads():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    metrics = conf.index("location = /_stcore/metrics")
    assert "return 404;" in conf[metrics:metrics + 80]
    upload = conf.index("location /_stcore/upload_file/")
    assert "limit_req zone=uploads" in conf[upload:upload + 200]
    assert "limit_req_zone $binary_remote_addr zone=uploads:10m rate=2r/s;" in conf
    root = conf.index("location / {")
    assert "limit_req zone=pages burst=120" in conf[root:root + 200]


def test_the_proxy_compresses_scripts_and_caches_static_files():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "gzip on;" in conf and "application/javascript" in conf and "gzip_proxied any;" in conf
    static = conf.index("location /static/")
    assert "proxy_cache static;" in conf[static:static + 300]
