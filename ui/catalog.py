"""The course map: every lesson, its page file, icon and syllabus group.

``app.py`` registers these pages with ``st.navigation`` and the home page lists
them by group. A lesson's title and one-line promise are the i18n keys
``<slug>.title`` and ``<slug>.promise``; the courses it follows, named as a learner can look them up, are
``home.sources.<slug>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Lesson:
    slug: str    # page file stem, i18n namespace, widget-key prefix, lesson-text name
    icon: str    # a :material/...: icon (emoji do not render in every browser)
    group: str   # one of GROUPS
    seeds: str   # notes files it follows (for maintainers: shared/seeds file numbers, never shown to learners)

    @property
    def path(self) -> str:
        return f"pages/{self.slug}.py"

    @property
    def preview(self) -> Path:
        """A small picture of the lesson's main figure for the course map (scripts/make_previews.py draws it)."""
        return ROOT / "assets" / "previews" / f"{self.slug}.png"


# Syllabus order of the course notes (shared/seeds/README.md).
GROUPS = ("foundations", "optimization", "networks", "cnn", "normalization", "sequences", "generative", "robustness")

LESSONS = (
    Lesson("linear_classifiers", ":material/scatter_plot:", "foundations", "003 §2-3, 000 ch. 4, 004, 001"),
    Lesson("generalization", ":material/tune:", "foundations", "001, 002 L1-2, 004"),
    Lesson("optimizer_race", ":material/speed:", "optimization", "000 §3, 001, 002 L3-5, 004"),
    Lesson("backprop", ":material/account_tree:", "networks", "003 §4, 001, 004"),
    Lesson("activations", ":material/show_chart:", "networks", "001, 003 §6, 002 L1, 004"),
    Lesson("receptive_field", ":material/center_focus_strong:", "cnn", "001, 000 §5.1, 003 §5"),
    Lesson("convolution", ":material/grid_on:", "cnn", "001, 004, 003 §5"),
    Lesson("cnn_architectures", ":material/view_module:", "cnn", "000 ch. 5, 001, 003 §5 §7 §9, 004"),
    Lesson("detection", ":material/crop_free:", "cnn", "004"),
    Lesson("normalization", ":material/equalizer:", "normalization", "001, 004, 003"),
    Lesson("lstm_gates", ":material/memory:", "sequences", "001, 004"),
    Lesson("attention", ":material/visibility:", "sequences", "004, 001"),
    Lesson("seq2seq", ":material/translate:", "sequences", "004, 001"),
    Lesson("gan", ":material/auto_awesome:", "generative", "001"),
    Lesson("adversarial", ":material/shield:", "robustness", "002 L23"),
)


def available() -> tuple[Lesson, ...]:
    """Lessons whose page file exists (all of them once the course is complete)."""
    return tuple(lesson for lesson in LESSONS if (ROOT / lesson.path).is_file())
