"""The lesson kit in every lesson: the code that ran is drawn only when asked for, in both languages."""

import pytest

from tests.support import LANGS, open_page
from ui import catalog


def _lesson_code(at) -> list[str]:
    return [c.value for c in at.code if "def " in c.value or "class " in c.value]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("lesson", catalog.available(), ids=lambda x: x.slug)
def test_the_code_that_ran_is_drawn_only_when_its_expander_opens(lesson, lang):
    at = open_page(lesson.path, lang)
    assert not at.exception
    assert _lesson_code(at) == []      # first paint: no source, so the browser does not fetch the highlighter
    keys = [k for k in at.session_state if str(k).startswith("code_open.")]
    assert len(keys) == 1, keys
    at.session_state[keys[0]] = True   # what the browser sends when the learner opens it
    at.run()
    assert not at.exception
    code = _lesson_code(at)
    assert code and all(c.lstrip().startswith(("def ", "class ", "@")) for c in code)   # whole definitions
    assert any(cap.value.startswith("dlcore.") for cap in at.caption)                   # named by module
