"""The lesson kit's shape, for every lesson: settings declared once (ui/experiments), presets that the declarations
accept, thin pages that draw controls by name and offer every figure's data."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from ui import catalog
from ui.params import InvalidValue, Param, defaults

ROOT = Path(__file__).resolve().parents[2]
LESSONS = [lesson.slug for lesson in catalog.available()]
MAX_PAGE_LINES, MAX_LINE = 150, 120


def _experiment(slug: str):
    return importlib.import_module(f"ui.experiments.{slug}")


@pytest.mark.parametrize("slug", LESSONS)
def test_each_setting_is_declared_once_with_its_widget(slug):
    mod = _experiment(slug)
    settings = getattr(mod, "SETTINGS", None)
    assert isinstance(settings, tuple) and settings, f"ui/experiments/{slug}.py declares no SETTINGS"
    assert all(isinstance(p, Param) for p in settings)
    assert len({p.name for p in settings}) == len(settings)
    assert mod.DEFAULTS == defaults(settings)


@pytest.mark.parametrize("slug", LESSONS)
def test_every_preset_is_accepted_by_the_declarations(slug):
    mod = _experiment(slug)
    declared = {p.name: p for p in mod.SETTINGS}
    for name, values in mod.PRESETS.items():
        unknown = set(values) - set(declared)
        assert not unknown, f"{slug} preset {name} sets undeclared {unknown}"
        for key, value in values.items():
            try:
                declared[key].check(value)
            except InvalidValue as err:
                pytest.fail(f"{slug} preset {name}: {key} = {value!r} is refused ({err})")


@pytest.mark.parametrize("slug", LESSONS)
def test_the_page_is_thin(slug):
    lines = (ROOT / "pages" / f"{slug}.py").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_PAGE_LINES, f"pages/{slug}.py has {len(lines)} lines"
    long = [i + 1 for i, line in enumerate(lines) if len(line) > MAX_LINE]
    assert not long, f"pages/{slug}.py lines over {MAX_LINE} characters: {long}"


@pytest.mark.parametrize("slug", LESSONS)
def test_the_page_draws_settings_by_name_labels_through_the_kit_and_charts_with_their_data(slug):
    source = (ROOT / "pages" / f"{slug}.py").read_text(encoding="utf-8")
    for p in _experiment(slug).SETTINGS:
        if p.widget:   # a declared widget is drawn by ui.controls.control, which builds its key
            assert not re.search(rf'key=f?"[^"]*\.{re.escape(p.name)}"', source), \
                f"pages/{slug}.py draws the setting {p.name!r} itself; use control(bound, {p.name!r})"
    assert "strings(" not in source, "translated labels come from ui.i18n.labels / option_names"
    assert ".plotly_chart(" not in source, "figures go through lesson.chart (which offers their data)"


@pytest.mark.parametrize("slug", LESSONS)
def test_the_course_map_has_a_small_picture_of_the_lesson(slug):
    from PIL import Image

    path = next(x for x in catalog.available() if x.slug == slug).preview
    assert path.is_file(), f"run scripts/make_previews.py: {path} is missing"
    with Image.open(path) as img:
        assert img.format == "PNG" and img.width == 480 and 100 <= img.height <= 700
    assert path.stat().st_size < 150_000
