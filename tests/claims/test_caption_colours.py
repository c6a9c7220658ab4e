"""Every lesson text that names a colour names one the figure draws (issue 31, item 11).

The scan reads every string of assets/i18n/{en,zh}/<lesson>.toml and every paragraph of assets/lessons/{en,zh}/*.md
and finds the colour words in it (English words, Chinese 红 橙 蓝 绿 灰 黄 紫 黑 粉). Each text that names one is
listed in ``CAPTIONS`` with where its figure is (the lesson page in AppTest, a URL query or an open tab, the figure's
title) and, where the text ties a colour to a part, which traces or shapes have it; or in ``NOT_COLOURS`` with the
reason its word is no colour claim ("grey image": greyscale). A new colour word in any lesson fails the scan until it
is listed. Colours are compared by name (``tests.support.colour_name``: hue bands, so #D55E00 and #E69F00 are both
orange). Both languages must name the same colours.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas  # noqa: F401  (loaded before any page: a page that imports it while app.py's warm-up thread does sees
import pytest  # a partly initialised module, "pandas has no attribute Series"; see the report of issue 31)
from plotly.colors import get_colorscale

from tests.support import colour_name, figures, open_page

ROOT = Path(__file__).resolve().parents[2]
EN_WORDS = {"red": "red", "orange": "orange", "blue": "blue", "green": "green", "grey": "grey", "gray": "grey",
            "greys": "grey", "greyed": "grey", "yellow": "yellow", "purple": "purple", "violet": "purple",
            "black": "black", "pink": "purple", "brown": "brown", "teal": "green"}
ZH_WORDS = {"红": "red", "橙": "orange", "蓝": "blue", "绿": "green", "灰": "grey", "黄": "yellow", "紫": "purple",
            "黑": "black", "粉": "purple"}
EN_RE = re.compile(r"\b(" + "|".join(EN_WORDS) + r")\b", re.IGNORECASE)
ZH_RE = re.compile("(" + "|".join(ZH_WORDS) + ")(?!塞)")   # 黑塞矩阵 (the Hessian) is a name, not black


def _flat(d: dict, prefix: str = ""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _flat(v, f"{prefix}{k}.")
        elif isinstance(v, str):
            yield f"{prefix}{k}", v


def colours_named(text: str, lang: str) -> set[str]:
    """The colours a text names, as English colour names."""
    if lang == "en":
        return {EN_WORDS[m.lower()] for m in EN_RE.findall(text)}
    return {ZH_WORDS[m] for m in ZH_RE.findall(text)}


@lru_cache(maxsize=1)
def texts() -> dict[str, dict[str, str]]:
    """Every lesson text that names a colour: "<lesson>.<key>" or "<lesson>.md#<paragraph>" -> {lang: text}."""
    found: dict[str, dict[str, str]] = {}
    for lang in ("en", "zh"):
        for path in sorted((ROOT / "assets" / "i18n" / lang).glob("*.toml")):
            if path.stem == "app":
                continue
            for key, text in _flat(tomllib.loads(path.read_text(encoding="utf-8"))):
                if colours_named(text, lang):
                    found.setdefault(f"{path.stem}.{key}", {})[lang] = text
        for path in sorted((ROOT / "assets" / "lessons" / lang).glob("*.md")):
            for i, para in enumerate(path.read_text(encoding="utf-8").split("\n\n")):
                if colours_named(para, lang):
                    found.setdefault(f"{path.stem}.md#{i}", {})[lang] = para
    return found


@dataclass(frozen=True)
class Caption:
    """Where the figure a text describes is: ``lesson``'s page with URL ``query`` (and the tab whose label is the
    i18n key ``tab``), the figure whose title contains the text of i18n key ``figure`` (None: every figure of the
    view). ``parts``: colour -> the i18n keys of the trace names that must have it ("shapes": the layout's shapes)."""

    lesson: str
    figure: str | None = None
    query: tuple[tuple[str, str], ...] = ()
    tab: str | None = None
    parts: dict[str, tuple[str, ...]] = field(default_factory=dict)
    xfail: str = ""     # a wrong colour in a lesson this test's author does not own: the reason names the key
    skip: str = ""      # the figure is not reachable in AppTest's default run


TARGET_3 = (("adversarial.targeted", "true"), ("adversarial.target", "3"))   # a targeted attack: both bands drawn
NOT_COLOURS = {
    "adversarial.help.upload": "greyscale pixels of the training data, not a drawn colour",
    "cnn_architectures.help.patch": "the occlusion patch blanks pixels; help text of a widget",
    "convolution.fig.grey": "an option name: the greyscale image",
    "convolution.notice.channels": "the greyscale image (a 1×1 convolution of RGB)",
    "gan.notice.live_digits": "greyscale digit samples, not a trace colour",
}

CAPTIONS: dict[str, Caption] = {
    # optimizer race, GAN, adversarial attacks (checked part by part)
    "adversarial.fig.probs": Caption("adversarial", "adversarial.fig.title", query=TARGET_3,
                                     parts={"blue": ("shapes",), "green": ("shapes",)}),
    "adversarial.notice.geometry": Caption("adversarial", "adversarial.geo.title", tab="adversarial.tabs.geometry",
                                           parts={"orange": ("adversarial.geo.projection",)}),
    "adversarial.presets.make_it_3.note": Caption(
        "adversarial", "adversarial.fig.title", query=TARGET_3,
        parts={"orange": ("adversarial.fig.after",), "green": ("shapes",)}),
    "adversarial.presets.projection.note": Caption("adversarial", "adversarial.geo.title",
                                                   tab="adversarial.tabs.geometry",
                                                   parts={"orange": ("adversarial.geo.projection",)}),
    "gan.notice.live": Caption("gan", parts={"orange": ("gan.fig.fake",)}),
    "gan.md#10": Caption("gan", parts={"black": ("gan.fig.real",), "orange": ("gan.fig.fake",),
                                       "blue": ("gan.fig.manifold",)}),
    "gan.notice.live_1d": Caption("gan", query=(("gan.target", "mixture1d"),),
                                  parts={"blue": ("gan.fig.d_star",), "orange": ("gan.fig.p_g",)}),
    "gan.presets.paper1d.note": Caption("gan", query=(("gan.target", "mixture1d"),)),
    "gan.presets.saturating.note": Caption("gan", parts={"orange": ("gan.fig.fake",)}),
    # the other lessons: the named colours are among the colours of the view's figures
    "activations.overflow": Caption("activations", skip="shown only for a setting that overflows float32"),
    "activations.zero_grad": Caption("activations", skip="shown only for a setting whose gradient underflows"),
    "attention.fig.roles_title": Caption("attention", skip="the MiniLM view loads a model: not in a claim test"),
    "attention.presets.causal.note": Caption("attention"),
    "backprop.notice.graph": Caption("backprop"),
    "backprop.fig.title": Caption("backprop"),
    "backprop.fig.done": Caption("backprop"),
    "backprop.fig.code": Caption("backprop"),
    "cnn_architectures.notice.stn": Caption("cnn_architectures", skip="the spatial transformer tab trains a model"),
    "cnn_architectures.notice.inside": Caption("cnn_architectures", skip="the inside view trains a model"),
    "convolution.notice.slide": Caption("convolution"),
    "generalization.notice.picture": Caption("generalization", tab="generalization.tabs.l1_l2"),
    "linear_classifiers.notice.templates": Caption("linear_classifiers", skip="the templates view trains a model"),
    "lstm_gates.fig.featured_c": Caption("lstm_gates", skip="drawn after the learner's text is run through a model"),
    "lstm_gates.fig.featured_h": Caption("lstm_gates", skip="drawn after the learner's text is run through a model"),
    "normalization.click_hint": Caption("normalization"),
    "normalization.fig.seq_title": Caption("normalization", skip="the sequence view sits on another tab"),
    "normalization.presets.group_as_layer.note": Caption("normalization"),
    "seq2seq.fig.steps_title": Caption("seq2seq", skip="the decoding view runs a trained model"),
}


def test_every_text_that_names_a_colour_is_checked_and_both_languages_agree():
    found = texts()
    unlisted = sorted(set(found) - set(CAPTIONS) - set(NOT_COLOURS))
    assert not unlisted, f"texts that name a colour with no check here: {unlisted}"
    for key, by_lang in found.items():
        named = {lang: colours_named(text, lang) for lang, text in by_lang.items()}
        assert named.get("en") == named.get("zh"), f"{key}: en names {named.get('en')}, zh {named.get('zh')}"


def test_the_scan_reads_colour_words_and_not_names():
    assert colours_named("the orange squares, greys out", "en") == {"orange", "grey"}
    assert colours_named("黑塞矩阵的特征向量，蓝色", "zh") == {"blue"}
    assert {"gan.md#10", "adversarial.fig.probs"} <= set(texts())


def _strings(lang: str) -> dict[str, str]:
    out = {}
    for path in (ROOT / "assets" / "i18n" / lang).glob("*.toml"):
        out |= {f"{path.stem}.{k}": v for k, v in _flat(tomllib.loads(path.read_text(encoding="utf-8")))}
    return out


def _names(colour: str) -> set[str]:
    """The words a caption may use for ``colour``: its ``colour_name``, and both "red" and "orange" for the
    vermillion between them (hue 15-30°, Okabe-Ito's #D55E00), which readers call either."""
    import colorsys

    name = colour_name(colour)
    if name in ("red", "orange") and colour.startswith("#"):
        h, _, s = colorsys.rgb_to_hls(*(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)))
        if s >= 0.15 and 15 <= 360 * h < 30:
            return {"red", "orange"}
    return {name}


def _colours(obj: Any) -> set[str]:
    """The colour names of everything a spec (or part of one) draws: colours, and the ends and middle of scales."""
    out: set[str] = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "colorscale":
                scale = get_colorscale(v) if isinstance(v, str) else v
                out |= set().union(*(_names(c) for _, c in scale)) if scale else set()
            elif "color" in k.lower() and isinstance(v, str) and (v.startswith("#") or v.startswith("rgb")):
                out |= _names(v)
            else:
                out |= _colours(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            out |= _colours(v)
    elif isinstance(obj, str) and (obj.startswith("#") and len(obj) == 7 or obj.startswith("rgb")):
        out |= _names(obj)
    return out


@lru_cache(maxsize=16)
def _view(lesson: str, query: tuple[tuple[str, str], ...], tab: str | None) -> tuple[dict, ...]:
    at = open_page(f"pages/{lesson}.py", "en", query=dict(query))
    if tab:
        at.session_state[f"{lesson}.tab"] = _strings("en")[tab]
        at.run()
    assert not at.exception, at.exception
    return tuple(figures(at))


def _title(fig: dict) -> str:
    title = fig.get("layout", {}).get("title", {})
    return str(title.get("text", "") if isinstance(title, dict) else title)


@pytest.mark.parametrize("key", sorted(CAPTIONS))
def test_the_colours_a_text_names_are_the_colours_of_its_figure(key, request):
    caption = CAPTIONS[key]
    if caption.skip:
        pytest.skip(caption.skip)
    if caption.xfail:
        request.applymarker(pytest.mark.xfail(reason=caption.xfail, strict=True))
    by_lang = texts()[key]
    named = colours_named(by_lang["en"], "en")
    strings = _strings("en")
    figs = _view(caption.lesson, caption.query, caption.tab)
    if caption.figure:
        figs = tuple(f for f in figs if strings[caption.figure].split("{")[0][:25] in _title(f))
    assert figs, f"{key}: no figure titled {caption.figure!r} in the view"
    drawn = set().union(*(_colours(f.get("data", [])) | _colours(f.get("layout", {}).get("shapes", []))
                          | _colours(f.get("layout", {}).get("annotations", [])) for f in figs))
    missing = named - drawn
    assert not missing, f"{key} names {sorted(missing)}, which no part of its figure is (drawn: {sorted(drawn)})"
    for colour, parts in caption.parts.items():
        assert colour in named, f"{key}: a check for {colour}, which the text does not name"
        for part in parts:
            if part == "shapes":
                got = set().union(*(_names(s["fillcolor"]) for f in figs for s in f["layout"].get("shapes", [])
                                    if s.get("fillcolor")))
            else:
                name = strings[part].split("{")[0]
                got = set().union(*(_colours({k: v for k, v in tr.items() if k in ("line", "marker", "fillcolor")})
                                    for f in figs for tr in f.get("data", [])
                                    if str(tr.get("name", "")).startswith(name)))
            assert colour in got, f"{key}: {part} is drawn {sorted(got)}, the text says {colour}"
