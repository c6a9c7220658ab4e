"""The one error the lesson raises for input a learner can reach: a ``ValueError`` with a code for the message."""

from __future__ import annotations


class ClassifierInputError(ValueError):
    """Input the lesson cannot use. ``code`` names the reason (one translated message each):
    one_class, too_few, too_many, duplicate, k_too_big, bad_k, bad_metric, bad_range, format, bad_class,
    bad_dataset, bad_loss; ``detail`` holds the numbers the message quotes (name, value, allowed range)."""

    def __init__(self, code: str, **detail: object) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def check_range(name: str, value: float, lo: float, hi: float, *, lo_open: bool = False) -> float:
    """``value`` if ``lo <= value <= hi`` (``lo < value`` when ``lo_open``) and finite, else ``ClassifierInputError``
    ("Invalid lr: 50 (allowed 0 < lr <= 10)", the way torch.optim words it)."""
    v = float(value)
    ok = v == v and (lo < v if lo_open else lo <= v) and v <= hi
    if not ok:
        raise ClassifierInputError("bad_range", name=name, value=v, lo=lo, hi=hi)
    return v
