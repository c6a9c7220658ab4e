"""Chart-click callbacks read what the client sent (issue 30, finding 8): any selection payload leaves the lesson
as it was, or moves it only to numbers the lesson then checks; none raises."""

from __future__ import annotations

import math

import pytest

from ui.experiments import normalization, optimizer_race, receptive_field
from ui.state import selected_points

HOSTILE = [
    None, "x", 5, [], {}, {"selection": None}, {"selection": {}}, {"selection": {"points": "abc"}},
    {"selection": {"points": [None, 3, "p"]}},
    {"selection": {"points": [{"x": "a", "y": None, "customdata": {"a": "b"}}]}},
    {"selection": {"points": [{"x": math.nan, "y": math.inf, "customdata": [math.nan, 1, 2]}]}},
    {"selection": {"points": [{"x": 1e300, "y": -1e300, "customdata": list(range(10_000))}]}},
    {"selection": {"points": [{"x": True, "y": False, "customdata": [True, False, True]}]}},
    {"selection": {"points": [{"x": 1.0, "y": 2.0}] * 100_000}},
]


@pytest.mark.parametrize("payload", HOSTILE, ids=range(len(HOSTILE)))
def test_a_malformed_selection_changes_nothing(payload):
    before = {"optimizer_race.x0": -2.6, "optimizer_race.y0": 0.4}
    state = dict(before, **{"optimizer_race.map": payload})
    optimizer_race.on_map_click(state)
    assert {k: state[k] for k in before} == before or all(math.isfinite(state[k]) for k in before)
    assert normalization.picked_cell(payload) == {}
    for chart in ("unit_fig", "rf_fig"):
        picked = receptive_field.picked(chart, payload)
        assert all(isinstance(v, int) for v in picked.values())


def test_selected_points_keeps_only_finite_numbers_and_at_most_a_bounded_count():
    pts = selected_points({"selection": {"points": [{"x": 1, "y": "2", "z": math.nan, "customdata": [1, 2.5],
                                                     "point_index": 10**12, "text": "<script>"}] * 1000}})
    assert len(pts) == 64 and pts[0] == {"x": 1, "customdata": [1, 2.5]}
    assert selected_points({"selection": {"points": [{"customdata": {"0": 3, "1": 4}}]}}) == [{"customdata": [3, 4]}]


def test_a_surface_name_the_lesson_does_not_declare_changes_nothing():
    state = {"optimizer_race.surface": "' OR 1=1", "optimizer_race.half_width": 3.0, "optimizer_race.x0": 0.5}
    optimizer_race.on_surface_change(state)
    assert state == {"optimizer_race.surface": "' OR 1=1", "optimizer_race.half_width": 3.0, "optimizer_race.x0": 0.5}
    state = {"optimizer_race.surface": "rosenbrock", "optimizer_race.half_width": math.nan}
    optimizer_race.on_surface_change(state)
    assert set(state) == {"optimizer_race.surface", "optimizer_race.half_width"}


def test_a_widget_value_of_the_wrong_kind_becomes_the_widgets_default_instead_of_breaking_the_session():
    """Streamlit 1.67 adopted whatever field the client sent as the widget's type, so one bad message raised on
    every later run of that session; ui.runtime.guard_widget_values refuses it (and a value the deserializer
    cannot read) and uses the default."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    from streamlit.runtime.state.common import WidgetMetadata
    from streamlit.runtime.state.session_state import Serialized, WStates

    from ui.runtime import guard_widget_values

    assert guard_widget_values() is True
    states = WStates()
    states.set_widget_metadata(WidgetMetadata("$$ID-1-lesson.lr", lambda v: 0.5 if v is None else float(v),
                                              lambda v: v, "double_value"))
    for bad in (WidgetState(id="$$ID-1-lesson.lr", string_value="abc"), WidgetState(id="$$ID-1-lesson.lr")):
        states.states["$$ID-1-lesson.lr"] = Serialized(bad)
        assert states["$$ID-1-lesson.lr"] == 0.5
        assert states.widget_metadata["$$ID-1-lesson.lr"].value_type == "double_value"   # not the client's
    states.set_widget_metadata(WidgetMetadata("$$ID-2-lesson.grid", lambda v: {} if v is None else __import__(
        "json").loads(v), lambda v: v, "string_value"))
    states.states["$$ID-2-lesson.grid"] = Serialized(WidgetState(id="$$ID-2-lesson.grid", string_value="[" * 5000))
    assert states["$$ID-2-lesson.grid"] == {}
    states.states["$$ID-1-lesson.lr"] = Serialized(WidgetState(id="$$ID-1-lesson.lr", double_value=0.1))
    assert states["$$ID-1-lesson.lr"] == 0.1   # a good value passes


def test_a_number_sent_as_an_integer_to_a_float_registered_widget_is_kept():
    """The browser sends number inputs as int_value where Streamlit registered double_value (seen in the browser:
    the sidebar's seed and the receptive field's size reset on every click until this was allowed)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState
    from streamlit.runtime.state.common import WidgetMetadata
    from streamlit.runtime.state.session_state import Serialized, WStates

    from ui.runtime import guard_widget_values

    assert guard_widget_values() is True
    states = WStates()
    states.set_widget_metadata(WidgetMetadata("$$ID-3-app.seed", lambda v: 0 if v is None else int(v), lambda v: v,
                                              "double_value"))
    states.states["$$ID-3-app.seed"] = Serialized(WidgetState(id="$$ID-3-app.seed", int_value=42))
    assert states["$$ID-3-app.seed"] == 42
