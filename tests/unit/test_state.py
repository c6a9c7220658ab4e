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
