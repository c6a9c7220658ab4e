"""Predict-then-observe exercises: answers computed by dlcore, checked against torch and hand-derived values;
grading of right, wrong and invalid predictions; texts in both languages."""

from __future__ import annotations

import importlib

import pytest
import torch
import torch.nn.functional as F

from ui import catalog
from ui.exercises import Exercise, by_id, for_lesson, number
from ui.experiments import convolution as conv_experiment
from ui.i18n import LANGS, strings

ALL = [ex for lesson in catalog.LESSONS for ex in for_lesson(lesson.slug)]


def test_grading_a_choice_and_a_number():
    choice = Exercise("demo", "pick", "p", lambda seed: "b", options=("a", "b"))
    assert choice.grade("b").correct and not choice.grade("a").correct and choice.grade("a").answer == "b"
    with pytest.raises(ValueError):
        choice.grade("c")
    num = Exercise("demo", "count", "p", lambda seed: 30 + seed, tolerance=0.1)
    assert num.answer(0) == "30" and num.answer(2) == "32"
    assert num.grade("33").correct and not num.grade("34").correct and num.grade("26").off_by == -4
    assert num.grade("3,2e1", seed=2).correct
    for bad in ("many", "nan", "inf", None, True, ["30"], "9" * 40):
        with pytest.raises(ValueError):
            num.grade(bad)
    assert number(" 2,5 ") == 2.5


def test_lessons_without_exercises_have_none_and_ids_resolve():
    assert for_lesson("no_such_lesson") == ()
    assert by_id("convolution.same_size").preset == "same" and by_id("nonsense") is None and by_id("../x.y") is None


def _conv_output(preset: str) -> int:
    v = conv_experiment.settings(preset)
    layer = torch.nn.Conv2d(1, 1, v["k"], stride=v["stride"], padding=v["padding"], dilation=v["dilation"])
    return layer(torch.zeros(1, 1, v["size"], v["size"])).shape[-1]


def test_convolution_answers_equal_torch_and_the_hand_derived_values():
    answers = {ex.name: ex.answer() for ex in for_lesson("convolution")}
    assert answers["same_size"] == str(_conv_output("same")) == "7"        # (7 + 2 - 3) / 1 + 1
    assert answers["halve"] == str(_conv_output("halve")) == "4"           # (8 + 2 - 3) // 2 + 1
    assert answers["dilated"] == str(_conv_output("dilated")) == "5"       # 9 - 2 * (3 - 1)
    v = conv_experiment.settings("undo")
    out = F.conv_transpose2d(torch.zeros(1, 1, v["size"], v["size"]), torch.zeros(1, 1, v["k"], v["k"]),
                             stride=v["stride"], padding=v["padding"], output_padding=v["output_padding"])
    assert answers["undo"] == str(out.shape[-1]) == "8"                    # (4 - 1) * 2 - 2 + 2 + 1 + 1
    for k, even in ((3, False), (4, True)):                                # who paints each pixel how often
        counts = F.conv_transpose2d(torch.ones(1, 1, 8, 8), torch.ones(1, 1, k, k), stride=2)[0, 0, k:-k, k:-k]
        assert (counts.max() == counts.min()) == even
        if not even:
            assert set(counts.unique().tolist()) == {1.0, 2.0, 4.0}        # "twice as often as their neighbours"
    assert answers["even_kernel"] == "4"


@pytest.mark.parametrize("lesson", [x.slug for x in catalog.available()])
def test_every_lesson_has_at_least_three_exercises(lesson):
    assert len(for_lesson(lesson)) >= 3


@pytest.mark.parametrize("ex", ALL, ids=lambda e: e.id)
def test_every_exercise_names_a_preset_and_has_its_texts_in_both_languages(ex):
    experiment = importlib.import_module(f"ui.experiments.{ex.lesson}")
    assert ex.preset in experiment.PRESETS
    values = {**experiment.DEFAULTS, **experiment.PRESETS[ex.preset]}
    for lang in LANGS:
        s = strings(lang)
        for part in ("question", "explain"):
            text = s[f"exercises.{ex.id}.{part}"]
            assert "{" not in text.format(**values)   # every placeholder is a setting of the experiment
        for option in ex.options or ():
            assert s[f"exercises.{ex.id}.options.{option}"]
