"""dlcore stays usable without Streamlit; the home page renders before torch loads."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import dlcore

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_importing_every_dlcore_module_loads_neither_streamlit_nor_plotly():
    names = [m.name for m in pkgutil.iter_modules(dlcore.__path__)]
    imports = "; ".join(f"import dlcore.{n}" for n in names)
    r = _run(f"import sys; {imports}; bad = [m for m in ('streamlit', 'plotly') if m in sys.modules]; "
             "assert not bad, bad")
    assert r.returncode == 0, r.stderr


def test_frame_modules_do_not_import_torch():
    r = _run("import sys; import ui.i18n, ui.state, ui.catalog, ui.lesson, ui.frame, ui.present, ui.runtime, "
             "ui.predict; from ui import catalog, predict; [predict.progress(x.slug) for x in catalog.LESSONS]; "
             "assert 'torch' not in sys.modules, 'torch imported by the frame'")
    assert r.returncode == 0, r.stderr


def test_dlcore_sources_never_import_streamlit_or_plotly():
    for path in (ROOT / "dlcore").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import streamlit" not in text and "import plotly" not in text, path


def test_a_training_worker_loads_neither_pandas_nor_sklearn():
    # every worker holds its own copy of what it imports: pandas (~65 MB) and scikit-learn (~75 MB) are for the
    # server's tables and are not needed to train; the digits come from sklearn's file, not its import
    r = _run("import sys; from dlcore import jobs, data; jobs.start(1); data.digits('train'); "
             "bad = [m for m in ('pandas', 'sklearn', 'streamlit', 'plotly') if m in sys.modules]; assert not bad, bad")
    assert r.returncode == 0, r.stderr


def test_the_class_store_loads_neither_streamlit_nor_torch():
    r = _run("import sys, classroom.store, classroom.db, classroom.codes; "
             "bad = [m for m in ('streamlit', 'torch', 'plotly') if m in sys.modules]; assert not bad, bad")
    assert r.returncode == 0, r.stderr


def _ui_imports() -> dict[str, set[str]]:
    """Which ui modules each ui module imports, counting imports inside functions too."""
    import ast

    graph: dict[str, set[str]] = {}
    for path in (ROOT / "ui").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ui"):
                deps.add(node.module)
                deps.update(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("ui"))
        graph[name] = deps
    return {k: {d for d in v if d in graph and d != k} for k, v in graph.items()}


def test_ui_modules_import_each_other_without_a_cycle():
    graph = _ui_imports()
    assert "ui.settings" in graph["ui.runtime"] and "ui.runtime" in graph["ui.frame"]   # the check sees imports
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            assert state.get(dep) != 1, "import cycle: " + " -> ".join([*path, node, dep])
            if dep not in state:
                visit(dep, [*path, node])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
