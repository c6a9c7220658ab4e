"""URL values are parsed strictly: wrong type, out of range and unknown options are rejected."""

import pytest

from ui.state import InvalidValue, Param


@pytest.mark.parametrize("raw,expected", [("0.5", 0.5), ("1e-3", 1e-3), ("2", 2.0)])
def test_float_param_accepts_values_in_range(raw, expected):
    assert Param.float("lr", 0.1, lo=0, hi=2).parse(raw) == expected


@pytest.mark.parametrize("raw,why", [("abc", "app.url.bad_type"), ("nan", "app.url.out_of_range"),
                                     ("inf", "app.url.out_of_range"), ("3", "app.url.out_of_range"),
                                     ("", "app.url.bad_type")])
def test_float_param_rejects_bad_values(raw, why):
    with pytest.raises(InvalidValue) as e:
        Param.float("lr", 0.1, lo=0, hi=2).parse(raw)
    assert str(e.value) == why


def test_int_param_rejects_floats_and_out_of_range():
    p = Param.int("n", 3, lo=1, hi=10)
    assert p.parse("7") == 7
    for raw in ("7.5", "0", "11", "1e3", "x"):
        with pytest.raises(InvalidValue):
            p.parse(raw)


def test_bool_choice_multi_floats_text():
    assert Param.bool("b", False).parse("true") is True and Param.bool("b", True).parse("0") is False
    with pytest.raises(InvalidValue):
        Param.bool("b", False).parse("maybe")
    c = Param.choice("act", "relu", ["relu", "tanh", 3])
    assert c.parse("tanh") == "tanh" and c.parse("3") == 3
    with pytest.raises(InvalidValue):
        c.parse("<script>")
    m = Param.multi("opts", ["sgd"], ["sgd", "adam"])
    assert m.parse("adam,sgd,adam") == ["adam", "sgd"]
    with pytest.raises(InvalidValue):
        m.parse("sgd,evil")
    f = Param.floats("start", (0.0, 1.0), lo=-5, hi=5)
    assert f.parse("1,-2") == (1.0, -2.0)
    for raw in ("1", "1,2,3", "1,x", "1,9"):
        with pytest.raises(InvalidValue):
            f.parse(raw)
    txt = Param.text("formula", "x**2", max_len=10, check=lambda s: "import" not in s)
    assert txt.parse("x+y") == "x+y"
    with pytest.raises(InvalidValue):
        txt.parse("x" * 11)
    with pytest.raises(InvalidValue):
        txt.parse("import")


def test_dump_round_trips():
    for p, v in [(Param.float("a", 0.1, lo=0, hi=1), 0.25), (Param.int("b", 1, lo=0, hi=9), 4),
                 (Param.bool("c", False), True), (Param.multi("d", [], ["x", "y"]), ["y", "x"]),
                 (Param.floats("e", (0.0, 0.0), lo=-1, hi=1), (0.5, -0.25))]:
        assert p.parse(p.dump(v)) == v


def test_checked_keeps_good_values_fixes_types_and_drops_stale_ones():
    from ui.state import _checked

    layer = Param.int("layer", 0, lo=0, hi=100)
    assert _checked(layer, 7) == 7
    assert _checked(layer, "7. conv3") == 0          # a select box label from a table that has changed since
    assert _checked(layer, 500) == 0                   # out of range
    d_k = Param.choice("d_k", 64, [8, 64, 512])
    assert _checked(d_k, "512") == 512 and type(_checked(d_k, "512")) is int
    assert _checked(d_k, 9) == 64
    lr = Param.float("lr", 0.1, lo=1e-5, hi=1.0)
    assert _checked(lr, 0.123456789) == 0.123456789  # kept exactly, not rounded through the URL form
    assert _checked(lr, "fast") == 0.1
    assert _checked(Param.floats("start", (0.0, 0.0), lo=-3, hi=3), [1.0, 2.0]) == (1.0, 2.0)
    assert _checked(Param.text("formula", "x**2", max_len=10), "y" * 50) == "y" * 50   # the page explains it
    assert _checked(Param.text("formula", "x**2", max_len=10), 3) == "x**2"   # not text: the default
    for hostile in (None, float("nan"), float("inf"), [7], {"a": 1}, True):   # values the UI never sends
        assert _checked(layer, hostile) == 0, hostile
    assert _checked(Param.choice("mode", "a", ["a", "b"], widget="segmented"), None) == "a"
    assert _checked(Param.bool("sn", False), "yes") is False
