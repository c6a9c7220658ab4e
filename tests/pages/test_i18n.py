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
    names = {lang: sorted(p.name for p in (I18N_DIR / lang).glob("*.toml")) for lang in LANGS}
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
