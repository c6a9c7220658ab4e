"""Both languages always: equal key sets, every key used in code exists, lesson texts exist."""

import csv
import re
from pathlib import Path

import pytest

from ui import catalog
from ui.i18n import I18N_DIR, LANGS, strings

ROOT = Path(__file__).resolve().parents[2]
CODE = [p for d in ("app.py", "pages", "ui") for p in ((ROOT / d).rglob("*.py") if (ROOT / d).is_dir() else [ROOT / d])]
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["']""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_same_namespace_files_in_both_languages():
    names = {lang: sorted(str(p.relative_to(I18N_DIR / lang)) for p in (I18N_DIR / lang).rglob("*.toml"))
             for lang in LANGS}
    assert names["en"] == names["zh"]


def test_en_and_zh_have_identical_keys():
    en, zh = set(strings("en")), set(strings("zh"))
    assert not en - zh, f"missing in zh: {sorted(en - zh)}"
    assert not zh - en, f"missing in en: {sorted(zh - en)}"


def test_no_empty_strings():
    for lang in LANGS:
        empty = [k for k, v in strings(lang).items() if not str(v).strip()]
        assert not empty, f"empty {lang} strings: {empty}"


def test_placeholders_agree_between_languages():
    en, zh = strings("en"), strings("zh")
    bad = [k for k in en if set(PLACEHOLDER.findall(str(en[k]))) != set(PLACEHOLDER.findall(str(zh[k])))]
    assert not bad, f"placeholders differ: {bad}"


@pytest.mark.parametrize("path", CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_literal_key_in_code_exists(path):
    keys = LITERAL_KEY.findall(path.read_text(encoding="utf-8"))
    missing = [k for k in keys if k not in strings("en") or k not in strings("zh")]
    assert not missing, f"{path.name} uses unknown keys {missing}"


@pytest.mark.parametrize("lesson", catalog.LESSONS, ids=lambda x: x.slug)
def test_each_available_lesson_has_title_promise_and_text(lesson):
    if lesson not in catalog.available():
        pytest.skip("lesson page not written yet")
    for lang in LANGS:
        assert f"{lesson.slug}.title" in strings(lang)
        assert f"{lesson.slug}.promise" in strings(lang)
        text = ROOT / "assets" / "lessons" / lang / f"{lesson.slug}.md"
        assert text.is_file() and len(text.read_text(encoding="utf-8")) > 300, f"{text} missing or too short"


def test_glossary_is_well_formed_and_bilingual():
    with (ROOT / "assets" / "glossary.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 40
    assert set(rows[0]) >= {"en", "zh"}
    en = [r["en"].strip().lower() for r in rows]
    assert len(en) == len(set(en)), "duplicate English terms in the glossary"
    assert all(r["en"].strip() and r["zh"].strip() for r in rows)


def test_zh_strings_use_glossary_terms_for_key_concepts():
    with (ROOT / "assets" / "glossary.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    en, zh = strings("en"), strings("zh")
    # Where an English string names a glossary term, the Chinese string names its glossary translation.
    misses = []
    for row in rows:
        term, term_zh = row["en"].strip().lower(), row["zh"].strip()
        if len(term) < 8:   # short terms (e.g. "loss") appear inside too many other words
            continue
        for key, text in en.items():
            if re.search(rf"\b{re.escape(term)}\b", str(text).lower()) and term_zh not in str(zh[key]):
                misses.append(f"{key}: '{row['en']}' -> '{term_zh}'")
    assert not misses, "Chinese strings stray from the glossary:\n" + "\n".join(misses[:30])


# The notes' file numbers (shared/seeds/000_… to 004_…) are for maintainers; learners see the course's name.
FILE_NUMBER = re.compile(r"(?:\bseeds?\s*0\d\d|种子\s*0\d\d|\bnotes?\s+0\d\d|笔记\s*0\d\d|"
                         r"课程笔记[：:]\s*0\d\d|\b00[0-4]\s*§)",
                         re.IGNORECASE)


def _learner_texts():
    for lang in LANGS:
        for key, value in strings(lang).items():
            yield f"{lang}:{key}", str(value)
        for path in sorted((ROOT / "assets" / "lessons" / lang).glob("*.md")):
            yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")


def test_no_learner_visible_text_cites_the_notes_by_file_number():
    leaks = [f"{where}: {m.group(0)!r}" for where, text in _learner_texts() for m in FILE_NUMBER.finditer(text)]
    assert not leaks, "cite the course by name and chapter (shared/seeds/README.md):\n" + "\n".join(leaks[:30])


def test_the_file_number_check_catches_what_it_is_for():
    for bad in ("seed 001", "Seeds 000 §3", "种子 002", "notes 003 §5", "课程笔记：000 §3", "004 §1"):
        assert FILE_NUMBER.search(bad), bad
    for fine in ("CS231n notes §5", "Hung-yi Lee, *Deep Learning*, lecture 23", "random seed 0", "0.001"):
        assert not FILE_NUMBER.search(fine), fine


@pytest.mark.parametrize("lesson", catalog.LESSONS, ids=lambda x: x.slug)
def test_the_course_map_names_the_courses_each_lesson_follows(lesson):
    for lang in LANGS:
        sources = strings(lang)[f"home.sources.{lesson.slug}"]
        assert not FILE_NUMBER.search(sources)
    assert any(name in strings("en")[f"home.sources.{lesson.slug}"]
               for name in ("Hung-yi Lee", "CS231n", "Dive into Deep Learning", "Neural Networks and Deep Learning"))


def _glossary() -> list[dict[str, str]]:
    with (ROOT / "assets" / "glossary.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_no_chinese_text_uses_a_variant_the_glossary_rules_out():
    avoided = [(row["zh"], v) for row in _glossary() for v in (row.get("avoid") or "").split("|") if v]
    assert ("平台区", "平原") in avoided and ("深度卷积", "逐通道卷积") in avoided   # the check has its list
    texts = [(k, str(v)) for k, v in strings("zh").items()]
    texts += [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8"))
              for p in sorted((ROOT / "assets" / "lessons" / "zh").glob("*.md"))]
    misses = [f"{where}: '{bad}' (use '{good}')" for good, bad in avoided for where, text in texts if bad in text]
    assert not misses, "\n".join(misses)


# Not prose: code, formulas, and titles of books, chapters and papers (cited as their authors wrote them).
NOT_PROSE = re.compile(r'`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|(?<!\*)\*[^*\n]+\*(?!\*)|"[^"\n]*"|“[^”\n]*”', re.DOTALL)


def _paragraphs(path: Path) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")) if p.strip()]


@pytest.mark.parametrize("lesson", [x.slug for x in catalog.LESSONS])
def test_lesson_texts_use_the_glossary_term_paragraph_by_paragraph(lesson):
    """Where an English paragraph of a lesson text names a glossary term, its Chinese paragraph names the
    glossary's translation (paragraphs correspond one to one; the test says so first)."""
    en_path, zh_path = (ROOT / "assets" / "lessons" / lang / f"{lesson}.md" for lang in ("en", "zh"))
    if not en_path.is_file():
        pytest.skip("lesson text not written yet")
    en, zh = _paragraphs(en_path), _paragraphs(zh_path)
    assert len(en) == len(zh), f"{lesson}: {len(en)} English and {len(zh)} Chinese paragraphs"
    misses = []
    for row in _glossary():
        term, term_zh = row["en"].strip().lower(), row["zh"].strip()
        if len(term) < 8:
            continue
        for i, (e, z) in enumerate(zip(en, zh)):
            if re.search(rf"\b{re.escape(term)}s?\b", NOT_PROSE.sub(" ", e).lower()) and term_zh not in z:
                misses.append(f"paragraph {i + 1}: '{row['en']}' -> '{term_zh}'")
    assert not misses, f"{lesson}:\n" + "\n".join(misses)


def _rendered_text(markdown: str) -> str:
    """What a reader sees of a Markdown string (CommonMark, the rules Streamlit's renderer follows)."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").render(re.sub(r"\$\$.*?\$\$|\$[^$]*\$", "x", markdown, flags=re.DOTALL))
    return re.sub(r"<[^>]+>", "", re.sub(r"<code>.*?</code>", " ", html, flags=re.DOTALL))   # code may say x**2


def test_no_text_shows_literal_asterisks_once_rendered():
    """A closing ** right after a full-width colon and before a CJK character does not close the bold in
    CommonMark (the join panel showed "**加入这个实验：**" on the projector)."""
    assert "**" in _rendered_text("**注意看：**在峡谷里")   # the check sees the defect it is for
    texts = [(f"{lang}:{k}", str(v)) for lang in LANGS for k, v in strings(lang).items()]
    texts += [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8"))
              for lang in LANGS for p in sorted((ROOT / "assets" / "lessons" / lang).glob("*.md"))]
    shown = [where for where, text in texts if "**" in _rendered_text(text.replace("{", "").replace("}", ""))]
    assert not shown, "literal ** in: " + ", ".join(shown[:20])
