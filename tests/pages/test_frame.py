"""The app frame in AppTest (issue 31, items 13 and 14): the device picker shows only when there is a choice, the
device in use always shows; Streamlit's own Stop button is labelled in the learner's language (seen in the browser:
tests/e2e/test_frame.py)."""

from __future__ import annotations

import pytest

from dlcore import device
from tests.support import LANGS, open_page
from ui.i18n import strings


def translate(lang: str, key: str, **fmt) -> str:
    return strings(lang)[key].format(**fmt)


def _texts(at) -> list[str]:
    return [c.value for c in at.sidebar.caption]


@pytest.mark.parametrize("lang", LANGS)
def test_device_picker_only_when_there_is_more_than_one_device(lang):
    at = open_page("pages/receptive_field.py", lang=lang)
    assert not at.exception
    pickers = [r for r in at.sidebar.radio if r.key == "app.device"]
    assert len(pickers) == (1 if len(device.available()) > 1 else 0)
    name = device.describe(device.pick("cpu")).name
    assert translate(lang, "app.device_name", name=name) in _texts(at)
    assert at.session_state["app.device"] == "cpu"


def test_a_device_the_server_lacks_in_the_url_falls_back_to_cpu():
    at = open_page("pages/attention.py", query={"device": "cuda"})
    assert not at.exception and at.session_state["app.device"] in device.available()
    if "cuda" not in device.available():
        assert at.session_state["app.device"] == "cpu"


@pytest.mark.parametrize("lang", LANGS)
def test_streamlit_stop_button_label_follows_the_language(lang):
    at = open_page("pages/attention.py", lang=lang)
    css = "".join(h.proto.body for h in at.get("html"))
    assert '[data-testid="stStatusWidget"] button::after' in css
    assert f'content: "{translate(lang, "app.streamlit.stop")}"' in css
    assert f'content: "{translate(lang, "app.streamlit.stopping")}"' in css
