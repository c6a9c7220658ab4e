"""dlcore.curve_pieces: pieces add up to the piecewise-linear interpolant; typed targets go through the course's
one formula parser (dlcore.expr), which never evaluates code."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlcore import curve_pieces as C
from dlcore import expr


@pytest.mark.parametrize("kind", ["hardsigmoid", "relu"])
@pytest.mark.parametrize("n", [1, 3, 7, 20])
@pytest.mark.parametrize("target", list(C.TARGETS))
def test_hard_sigmoids_and_relus_rebuild_exactly_the_line_through_the_knots(kind, n, target):
    p = C.build_from_pieces(C.TARGETS[target], n, kind)
    knots_y = C.parse_formula(C.TARGETS[target])(torch.from_numpy(p.knots)).numpy()
    np.testing.assert_allclose(p.total, np.interp(p.x, p.knots, knots_y), atol=1e-10)
    assert p.pieces.shape == (n, C.POINTS)
    np.testing.assert_allclose(p.offset + p.pieces.sum(0), p.total, atol=1e-12)


def test_error_shrinks_as_pieces_are_added_quadratically_for_a_smooth_curve():
    err = C.error_curve(C.TARGETS["wave"], "hardsigmoid", (5, 10, 20, 40))
    assert np.all(np.diff(err) < 0)
    assert err[3] / err[2] == pytest.approx(0.25, abs=0.06)     # linear interpolation: error ~ Delta^2
    sig = C.error_curve(C.TARGETS["wave"], "sigmoid", (5, 50))
    assert sig[1] < sig[0] / 10


def test_one_sigmoid_piece_has_the_segment_slope_at_its_middle():
    # d/dx [c sigmoid(4 (x - m) / Delta)] at x = m is c / Delta, the hard sigmoid's slope
    p = C.build_from_pieces("x", 2, "sigmoid")
    x = p.x
    mid = np.argmin(np.abs(x - (-1.5)))
    slope = (p.pieces[0, mid + 1] - p.pieces[0, mid - 1]) / (x[mid + 1] - x[mid - 1])
    assert slope == pytest.approx(1.0, rel=1e-3)               # rise 3 over a segment of width 3


@pytest.mark.parametrize(("text", "expected"), [
    ("sin(2*x) + 0.3*x", lambda x: torch.sin(2 * x) + 0.3 * x),
    ("2^3 + x", lambda x: 8 + x),
    ("-x**2", lambda x: -(x**2)),
    ("exp(-x) * pi / e", lambda x: torch.exp(-x) * math.pi / math.e),
    ("abs(x) - relu(x) + sigmoid(x)", lambda x: x.abs() - torch.relu(x) + torch.sigmoid(x)),
    ("x**-2", lambda x: x**-2),
])
def test_formula_parser_agrees_with_torch(text, expected):
    x = torch.linspace(0.5, 2.5, 9, dtype=torch.float64)
    torch.testing.assert_close(C.parse_formula(text)(x), expected(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("text", "code"), [
    ("", "empty"), ("x +", "syntax"), ("__import__('os').system('ls')", "function"), ("open('f')", "function"),
    ("y * 2", "name"), ("x.real", "node"), ("[x, 1]", "node"), ("lambda: 1", "node"), ("x if x else 1", "node"),
    ("sin(x, 2)", "arity"), ("sin(x=1)", "arity"), ("x" * 200, "too_long"), ("x" * (C.MAX_FORMULA + 1), "too_long"),
    ("x < 1", "node"), ("True + x", "constant"), ("+".join(["x"] * 40), "too_complex"),
])
def test_formula_parser_rejects_with_a_reason(text, code):
    with pytest.raises(expr.ExpressionError) as e:
        C.parse_formula(text)
    assert e.value.code == code


def test_targets_use_the_one_formula_parser_of_dlcore_expr():
    # the same text, the same function and the same refusals as the optimizer race's f(x, y), with x alone
    x = torch.linspace(-3, 3, 13, dtype=torch.float64)
    text = "sign(x) * floor(x^2) + min(x, 1)"
    torch.testing.assert_close(C.parse_formula(text)(x), expr.compile_expression(text)(x, torch.zeros_like(x)),
                               rtol=0, atol=0)
    with pytest.raises(expr.ExpressionError) as e:
        C.parse_formula("x + y")
    assert e.value.code == "name" and e.value.detail == "y"
    assert not hasattr(C, "FormulaError") and not hasattr(C, "MAX_NODES") and not hasattr(C, "_eval")


@pytest.mark.parametrize("text", ["9**9**9", "x**x", "x**1000", "1/x"])
def test_huge_or_undefined_values_are_refused_as_not_finite_when_built(text):
    # no power cap of its own: every literal is a float, so 9**9**9 is inf at once, and the build says so
    with pytest.raises(expr.ExpressionError) as e:
        C.error_curve(text, "relu", (1, 2, 3, 4))
    assert e.value.code == "not_finite"


def test_formula_that_is_not_finite_on_the_range_is_rejected_when_built():
    with pytest.raises(expr.ExpressionError) as e:
        C.build_from_pieces("log(x)", 3, "relu")
    assert e.value.code == "not_finite"


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_any_text_gives_a_curve_or_a_formula_error(text):
    try:
        p = C.build_from_pieces(text, 4, "sigmoid")
    except expr.ExpressionError:
        return
    assert np.isfinite(p.total).all()


@pytest.mark.parametrize(("n", "kind"), [(0, "relu"), (51, "relu"), (3, "tanh")])
def test_build_enforces_its_caps(n, kind):
    with pytest.raises(ValueError, match="Invalid"):
        C.build_from_pieces("x", n, kind)
