"""Every page fuzzed through its URL parameters: no exception, ever (hypothesis)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import APP, open_page
from ui import catalog

PAGES = ["pages/home.py"] + [lesson.path for lesson in catalog.available()]
_KEYS: dict[str, list[str]] = {}


def _param_names(page: str) -> list[str]:
    """The page's own URL-bound keys (read from a default run) plus the frame's."""
    if page not in _KEYS:
        at = open_page(page, "en")
        slug = page.removeprefix("pages/").removesuffix(".py")
        own = sorted(k for k in at.session_state.to_dict() if isinstance(k, str) and k.startswith(f"{slug}."))
        _KEYS[page] = own[:40] + ["seed", "device", "lang", "present", "join"]
    return _KEYS[page]


NASTY = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "nan", "inf", "-inf", "1e309", "-1", "0", "1", "999999999999", "true", "[1,2]",
                     "__import__('os')", "<script>alert(1)</script>", "1,2,3", ",", "é中文", "%00", "0x10"]),
    st.integers(-10**12, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@pytest.mark.parametrize("page", PAGES)
def test_random_url_parameters_never_raise(page):
    names = _param_names(page)

    @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.dictionaries(st.sampled_from(names), NASTY, min_size=1, max_size=4))
    def run(query):
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(str(APP), default_timeout=120)
        at.query_params["lang"] = "en"
        at.run()
        for k, v in query.items():
            at.query_params[k] = v
        at.switch_page(page).run()
        assert not at.exception, f"{page} with {query} raised {at.exception}"

    run()
