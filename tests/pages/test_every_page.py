"""AppTest: every registered page opens in both languages with no exception and no missing string."""

import pytest

from tests.support import LANGS, all_text, figures, open_page
from ui import catalog
from ui.i18n import strings

PAGES = ["pages/home.py"] + [lesson.path for lesson in catalog.available()]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", PAGES)
def test_page_opens_without_exception_in_both_languages(page, lang):
    at = open_page(page, lang)
    assert not at.exception, f"{page} ({lang}) raised: {at.exception}"
    slug = page.removeprefix("pages/").removesuffix(".py")
    assert at.title[0].value == strings(lang)[f"{slug}.title"]
    text = all_text(at)
    assert "[" + slug + "." not in text, f"missing translation shown on {page} ({lang})"
    assert not at.error, f"{page} ({lang}) shows an error at its defaults: {[e.value for e in at.error]}"
    if slug != "home":
        assert figures(at), f"{page} shows no figure"
    # issue 31, item 7: st.dataframe writes a bare NaN / None as a grey "None". Read-only tables only: a data
    # editor's empty cells are the learner's to fill
    for table in at.dataframe:
        if table.proto.editing_mode == 0 and table.value.isna().to_numpy().any():
            assert table.proto.arrow_data.HasField("styler"), \
                f"{page} ({lang}): a table shows None (style it: ui.figures.common.readable, na_rep)"


@pytest.mark.parametrize("lang", LANGS)
def test_home_links_every_available_lesson(lang):
    at = open_page("pages/home.py", lang)
    text = all_text(at)
    for lesson in catalog.available():
        assert strings(lang)[f"{lesson.slug}.promise"] in text


def test_locale_picks_chinese_when_no_lang_in_url():
    from streamlit.testing.v1 import AppTest

    from tests.support import APP

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.context["locale"] = "zh-CN"
    at.run()
    assert at.title[0].value == strings("zh")["home.title"]
    assert at.query_params.get("lang") == "zh"


def test_bad_seed_in_url_gives_note_not_exception():
    from streamlit.testing.v1 import AppTest

    from tests.support import APP

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["seed"] = "banana"
    at.run()
    assert not at.exception
    assert at.session_state["app.seed"] == 0
    assert any("seed" in w.value for w in at.sidebar.warning)


def test_seed_from_url_is_used_and_kept():
    from streamlit.testing.v1 import AppTest

    from tests.support import APP

    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["seed"] = "42"
    at.run()
    assert at.session_state["app.seed"] == 42
    assert at.query_params.get("seed") == "42"


def test_switching_language_in_sidebar_translates_the_page():
    at = open_page("pages/home.py", "en")
    assert at.title[0].value == "Course map"
    at.segmented_control(key="app.lang").set_value("zh").run()
    assert at.title[0].value == "课程地图"
    assert at.query_params.get("lang") == "zh"


def test_a_lost_language_switch_value_keeps_the_language_of_the_url():
    """If the switch's widget state ever arrives empty, the page stays in the URL's language (not English)."""
    at = open_page("pages/lstm_gates.py", "zh")
    at.session_state["app.lang"] = None
    at.run()
    assert not at.exception
    assert at.session_state["app.lang"] == "zh" and at.query_params.get("lang") == "zh"
    assert "LSTM 的门" in at.title[0].value
