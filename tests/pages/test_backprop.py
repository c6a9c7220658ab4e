"""AppTest of the backpropagation lesson in both languages: the graph animation carries the trace's values and
gradients, typed expressions and values redraw it, bad text gets a translated message with the page alive, the
tabs compute the gradient check and the matrix case, presets and URLs reopen an experiment."""

from __future__ import annotations

import re

import pytest

from dlcore import backprop as bp
from tests.support import LANGS, all_text, figures, open_page, widget
from ui.experiments import backprop as experiment
from ui.i18n import strings

PAGE, S = "pages/backprop.py", "backprop"


def graph(at) -> dict:
    return figures(at)[0]


def final_grads(fig: dict) -> list[str]:
    return list(fig["frames"][-1]["data"][2]["text"])


def open_tab(at, name: str, lang: str):
    at.session_state[f"{S}.tab"] = strings(lang)[f"{S}.tabs.{name}"]
    return at.run()


@pytest.mark.parametrize("lang", LANGS)
def test_default_graph_is_the_staged_example_with_autograds_gradients(lang):
    at = open_page(PAGE, lang)
    assert not at.exception and not at.error
    fig = graph(at)
    tr = experiment.trace_of(None)
    assert len(fig["frames"]) == 18
    grads = final_grads(fig)
    assert grads[0].startswith("∂ " + f"{tr.grads['x']:.4g}") and grads[0].endswith("(+=)")
    assert fig["layout"]["title"]["text"].replace("<br>", " ") == strings(lang)[f"{S}.fig.title"]
    table = at.dataframe[0].value
    assert list(table.iloc[:, 4]) == list(table.iloc[:, 5])       # this lesson's gradient == autograd's
    assert table.iloc[-1, 3].startswith("∂/∂add2: ")                # the output's local gradients


@pytest.mark.parametrize("lang", LANGS)
def test_typing_an_expression_and_values_redraws_the_graph(lang):
    at = open_page(PAGE, lang)
    widget(at, f"{S}.expression").set_value("(x + y) * z").run()
    widget(at, f"{S}.values").set_value("x = -2, y = 5, z = -4").run()
    assert not at.exception and not at.error
    fig = graph(at)
    assert len(fig["frames"]) == 6
    assert final_grads(fig)[:3] == ["∂ -4", "∂ -4", "∂ 3"]
    assert at.query_params[f"{S}.expression"] == ["(x + y) * z"] or at.query_params[f"{S}.expression"] == "(x + y) * z"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("text", "code"), [("__import__('os')", "function"), ("x +", "syntax"),
                                             ("lambda: 1", "node"), ("x.real", "node"), ("", "empty"),
                                             ("x" + "+1" * 39, "graph"), ("a+b+c+d+f+g+h+i+j", "variables")])
def test_bad_expressions_get_a_translated_message_and_the_page_stays_alive(lang, text, code):
    at = open_page(PAGE, lang)
    widget(at, f"{S}.expression").set_value(text).run()
    assert not at.exception
    why = max(re.split(r"\{\w+\}", strings(lang)[f"{S}.errors.{code}"]), key=len)[:12]
    assert at.error and why in at.error[0].value
    assert strings(lang)[f"{S}.bad_expression"].split("{")[0] in at.error[0].value
    assert at.title[0].value == strings(lang)[f"{S}.title"]
    assert at.button(key=f"{S}.preset_btn.chain")                     # the presets still work
    at.button(key=f"{S}.preset_btn.chain").click().run()
    assert not at.error and len(graph(at)["frames"]) == 6


@pytest.mark.parametrize("lang", LANGS)
def test_bad_values_text_and_a_missing_value(lang):
    at = open_page(PAGE, lang)
    widget(at, f"{S}.values").set_value("x = nan").run()
    assert not at.exception and at.error
    widget(at, f"{S}.values").set_value("x = 2").run()
    assert not at.error and at.info and "y" in at.info[0].value
    widget(at, f"{S}.expression").set_value("1 / (x - x)").run()
    assert not at.exception and at.warning and strings(lang)[f"{S}.not_finite"][:10] in at.warning[0].value


@pytest.mark.parametrize("lang", LANGS)
def test_gradient_check_tab_draws_the_error_against_h(lang):
    at = open_tab(open_page(PAGE, lang), "check", lang)
    assert not at.exception and not at.error
    fig = next(f for f in figures(at) if f["layout"]["xaxis"].get("type") == "log")
    assert [d["name"] for d in fig["data"]][:2] == ["x", "y"]
    assert list(fig["data"][2]["x"]) == [1e-5, 1e-5]
    widget(at, f"{S}.h").set_value(1e-2).run()
    fig = next(f for f in figures(at) if f["layout"]["xaxis"].get("type") == "log")
    assert list(fig["data"][2]["x"]) == [1e-2, 1e-2]
    assert "1e-05" in all_text(at)                                     # the best step in the notice
    widget(at, f"{S}.float32").set_value(True).run()
    assert not at.exception
    fig = next(f for f in figures(at) if f["layout"]["xaxis"].get("type") == "log")
    assert len(fig["data"]) == 5 and fig["data"][3]["line"]["dash"] == "dot"
    assert "1e-02" in all_text(at)                                     # float32's best step
    widget(at, f"{S}.expression").set_value("3 + 4").run()
    assert not at.exception and any(strings(lang)[f"{S}.no_variables"] == i.value for i in at.info)


@pytest.mark.parametrize("lang", LANGS)
def test_matrix_tab_shapes_and_a_wrong_transposes_error(lang):
    at = open_tab(open_page(PAGE, lang), "matrix", lang)
    assert not at.exception and not at.error
    shapes = at.dataframe[0].value
    assert list(shapes.iloc[:, 0]) == list(bp.GRADIENTS)
    assert any("mat1 and mat2 shapes cannot be multiplied (4x5 and 4x3)" in c.value for c in at.code)
    widget(at, f"{S}.hidden").set_value(4).run()                      # N = H = 4: h @ ds runs silently
    assert not at.exception and at.warning
    widget(at, f"{S}.mistake").set_value("dW1_swap").run()
    assert any("must match" in c.value for c in at.code)


def test_a_preset_and_a_shared_url_reopen_the_experiment():
    at = open_page(PAGE, "en")
    at.button(key=f"{S}.preset_btn.max_relu").click().run()
    assert not at.exception
    assert at.session_state[f"{S}.expression"] == experiment.PRESETS["max_relu"]["expression"]
    assert strings("en")[f"{S}.presets.max_relu.note"][:20] in all_text(at)
    url = {f"{S}.expression": "x * x", f"{S}.values": "x = 3"}
    at = open_page(PAGE, "zh", url)
    assert not at.exception and final_grads(graph(at))[0].startswith("∂ 6")


def test_an_invalid_url_value_gives_a_note_and_the_default():
    at = open_page(PAGE, "en", {f"{S}.h": "banana", f"{S}.n": "99"})
    assert not at.exception and at.warning
    assert at.session_state[f"{S}.h"] == experiment.DEFAULTS["h"] and at.session_state[f"{S}.n"] == 4
    at = open_page(PAGE, "en", {f"{S}.expression": "x" * 300})
    assert not at.exception and at.warning
