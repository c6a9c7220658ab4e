"""Join codes: six characters a student can read off a projector and type on a phone.

The alphabet leaves out 0/O and 1/I; codes are case-insensitive. A code is drawn at random (30 bits) and
never derived from the experiment, so nobody can craft an experiment whose code is the teacher's.
"""

from __future__ import annotations

import re
import secrets

CODE_LEN = 6
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # 32 symbols: no 0/O, no 1/I
_CODE = re.compile(rf"[{ALPHABET}]{{{CODE_LEN}}}")
MAX_RAW = 32   # longest text looked at before it is refused outright


def new_code() -> str:
    """A fresh random code (``secrets``: unpredictable, unlike ``random``)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LEN))


def normalize(raw: object) -> str | None:
    """The canonical form of a typed code, or None when it cannot be a code (checked without any database).

    Surrounding spaces and case do not matter; anything longer than ``MAX_RAW`` characters, not a string,
    or with a character outside the alphabet is refused.
    """
    if not isinstance(raw, str) or len(raw) > MAX_RAW:
        return None
    code = raw.strip().upper()
    return code if _CODE.fullmatch(code) else None
