r"""Numbers 0-9999 as English words, Chinese numerals and digits: the exact rules that generate the lesson's data.

English (British usage, the one that says "and"): "three hundred and twelve", "one thousand and five",
"two thousand three hundred and forty-five". The word "and" comes before the last part when that part is below a
hundred and a hundred or a thousand comes before it. Tens and units join with a hyphen ("forty-five"); as tokens
they are two words, so the decoder's vocabulary stays small.

Chinese (standard reading of numerals): 三百一十二, 一千零五, 一千零一十, 二千三百四十五.
- 十 alone for 10-19 (十二), but 一十 once a higher unit comes first (一百一十二);
- one 零 stands for a run of zero digits between two non-zero ones (一千零五, 一千零五十); trailing zeros are
  silent (一千二百).
Tokens are characters.

Digits are tokens too: "312" is ("3", "1", "2").
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_NUMBER = 9999
MAX_CHARS = 60          # longest text a learner may type
LANGUAGES = ("digits", "en", "zh")

ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
        "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
EN_WORDS = (*ONES, *TENS[2:], "hundred", "thousand", "and")
ZH_DIGITS = "零一二三四五六七八九"
ZH_UNITS = {1000: "千", 100: "百", 10: "十"}
ZH_CHARS = tuple(ZH_DIGITS) + ("十", "百", "千")
DIGITS = tuple("0123456789")
VOCABULARY = {"digits": DIGITS, "en": EN_WORDS, "zh": ZH_CHARS}


class NumberTextError(ValueError):
    """Typed text that is not a number of the task: ``code`` names the problem ("empty", "too_long", "unknown",
    "grammar", "range"); ``position`` and ``token`` point at it (0-based token index)."""

    def __init__(self, code: str, position: int = 0, token: str = "") -> None:
        super().__init__(f"Invalid number text: {code} at token {position} ({token!r})")
        self.code, self.position, self.token = code, position, token


def _check(n: int) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"Invalid number: {n!r} (allowed 0..{MAX_NUMBER})")


def _en_below_100(n: int) -> list[str]:
    return [ONES[n]] if n < 20 else [TENS[n // 10]] + ([ONES[n % 10]] if n % 10 else [])


def to_english(n: int) -> tuple[str, ...]:
    """``n`` as English word tokens: 312 -> ("three", "hundred", "and", "twelve")."""
    _check(n)
    if n == 0:
        return ("zero",)
    thousands, hundreds, rest = n // 1000, n // 100 % 10, n % 100
    words: list[str] = []
    if thousands:
        words += [ONES[thousands], "thousand"]
    if hundreds:
        words += [ONES[hundreds], "hundred"]
    if rest:
        words += (["and"] if words else []) + _en_below_100(rest)
    return tuple(words)


def to_chinese(n: int) -> tuple[str, ...]:
    """``n`` as Chinese numeral characters: 312 -> 三百一十二, 1005 -> 一千零五, 12 -> 十二."""
    _check(n)
    if n == 0:
        return ("零",)
    out: list[str] = []
    pending_zero = False
    for unit in (1000, 100, 10, 1):
        d = n // unit % 10
        if d == 0:
            pending_zero = bool(out)          # a zero after a spoken digit; said only if a non-zero digit follows
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        if not (unit == 10 and d == 1 and not out):   # 十二, not 一十二, when nothing comes before
            out.append(ZH_DIGITS[d])
        if unit > 1:
            out.append(ZH_UNITS[unit])
    return tuple(out)


def to_digits(n: int) -> tuple[str, ...]:
    """``n`` as digit tokens: 312 -> ("3", "1", "2")."""
    _check(n)
    return tuple(str(n))


def render(tokens: tuple[str, ...] | list[str], language: str) -> str:
    """Tokens as a learner reads them: words with spaces (and "forty-five"), characters and digits run together."""
    if language != "en":
        return "".join(tokens)
    out: list[str] = []
    for tok in tokens:
        if out and out[-1] in TENS[2:] and tok in ONES[1:10]:
            out[-1] = f"{out[-1]}-{tok}"
        else:
            out.append(tok)
    return " ".join(out)


WRITERS = {"digits": to_digits, "en": to_english, "zh": to_chinese}


def write(n: int, language: str) -> tuple[str, ...]:
    """``n`` in ``language`` ("digits", "en" or "zh") as tokens."""
    if language not in WRITERS:
        raise ValueError(f"Invalid language: {language!r} (allowed {LANGUAGES})")
    return WRITERS[language](n)


def tokenize(text: str, language: str) -> tuple[str, ...]:
    """Split typed text into tokens: English on spaces and hyphens (lower case), Chinese and digits by character
    (spaces ignored). Raises :class:`NumberTextError` ("empty", "too_long", "unknown")."""
    if language not in VOCABULARY:
        raise ValueError(f"Invalid language: {language!r} (allowed {LANGUAGES})")
    if len(text) > MAX_CHARS:
        raise NumberTextError("too_long", MAX_CHARS, text[MAX_CHARS:MAX_CHARS + 1])
    if language == "en":
        tokens = tuple(text.lower().replace("-", " ").replace(",", " ").split())
    else:
        tokens = tuple(ch for ch in text if not ch.isspace())
    if not tokens:
        raise NumberTextError("empty")
    for i, tok in enumerate(tokens):
        if tok not in VOCABULARY[language]:
            raise NumberTextError("unknown", i, tok)
    return tokens


def guess_language(text: str) -> str:
    """"digits" if the text has a digit, "zh" if a CJK character, else "en" (what the learner probably typed)."""
    if any(ch.isdigit() and ch.isascii() for ch in text):
        return "digits"
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"


@dataclass(frozen=True)
class Parsed:
    number: int
    language: str
    tokens: tuple[str, ...]


def parse(text: str, language: str | None = None) -> Parsed:
    """The number that ``text`` writes, checked by writing it back: only the generators' exact spelling is accepted,
    so "one hundred twelve" (no "and") or 一十二 (for 十二) are grammar errors that point at the first token where
    the text and the right spelling differ. Raises :class:`NumberTextError`."""
    language = language or guess_language(text)
    tokens = tokenize(text, language)
    if language == "digits":
        if len(tokens) > 1 and tokens[0] == "0":
            raise NumberTextError("grammar", 0, "0")
        if len(tokens) > len(str(MAX_NUMBER)):
            raise NumberTextError("range", len(str(MAX_NUMBER)), tokens[len(str(MAX_NUMBER))])
        return Parsed(int("".join(tokens)), language, tokens)
    n = _read_value(tokens, language)
    if n > MAX_NUMBER:
        raise NumberTextError("range", 0, tokens[0])
    right = write(n, language)
    if right != tokens:
        at = next((i for i, (a, b) in enumerate(zip(tokens, right)) if a != b), min(len(tokens), len(right)))
        raise NumberTextError("grammar", min(at, len(tokens) - 1), tokens[min(at, len(tokens) - 1)])
    return Parsed(n, language, tokens)


def _read_value(tokens: tuple[str, ...], language: str) -> int:
    """A lenient reading of the tokens' value (multipliers times digits); :func:`parse` checks the spelling."""
    total, current = 0, 0
    if language == "en":
        for i, tok in enumerate(tokens):
            if tok in ONES:
                current += ONES.index(tok)
            elif tok in TENS[2:]:
                current += 10 * TENS.index(tok)
            elif tok == "hundred":
                current = max(current, 1) * 100
            elif tok == "thousand":
                total, current = total + max(current, 1) * 1000, 0
            if current > 10 * MAX_NUMBER or total > 10 * MAX_NUMBER:
                raise NumberTextError("range", i, tok)
        return total + current
    units = {"千": 1000, "百": 100, "十": 10}
    digit = None
    for i, tok in enumerate(tokens):
        if tok in units:
            total += (1 if digit is None else digit) * units[tok]
            digit = None
        else:
            digit = ZH_DIGITS.index(tok) if digit is None else digit * 10 + ZH_DIGITS.index(tok)
        if total > 10 * MAX_NUMBER or (digit or 0) > 10 * MAX_NUMBER:
            raise NumberTextError("range", i, tok)
    return total + (digit or 0)
