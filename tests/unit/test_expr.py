"""dlcore.expr: typed formulas evaluate like the same torch code, stay autograd-friendly, and refuse anything unsafe."""

import math

import pytest
import torch

from dlcore.expr import MAX_LENGTH, ExpressionError, compile_expression

X = torch.linspace(-2, 2, 7, dtype=torch.float64)
Y = torch.linspace(-1, 3, 7, dtype=torch.float64)


@pytest.mark.parametrize(("text", "reference"), [
    ("(1 - x)^2 + 100*(y - x^2)^2", lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2),
    ("x**3 - 3*x*y**2", lambda x, y: x**3 - 3 * x * y**2),
    ("-x^2", lambda x, y: -(x**2)),                         # ^ has the precedence of **: -(x^2)
    ("2^3^2 + 0*x", lambda x, y: torch.full_like(x, 2.0**9)),  # right-associative like **
    ("sin(x)*cos(y) + exp(-x^2/2) - log(1 + y^2)", lambda x, y: torch.sin(x) * torch.cos(y) + torch.exp(-x**2 / 2)
     - torch.log(1 + y**2)),
    ("sqrt(abs(x)) + tanh(y) + sigmoid(x) + softplus(y) + relu(x - y)",
     lambda x, y: x.abs().sqrt() + y.tanh() + x.sigmoid() + torch.nn.functional.softplus(y) + (x - y).relu()),
    ("min(x, y) + max(x, 2) + atan(y) + sinh(x) + cosh(y) + tan(x/4)",
     lambda x, y: torch.minimum(x, y) + torch.maximum(x, torch.full_like(x, 2.0)) + y.atan() + x.sinh() + y.cosh()
     + (x / 4).tan()),
    ("pi + e*x", lambda x, y: math.pi + math.e * x),
    ("+x - -y", lambda x, y: x + y),
])
def test_formula_matches_the_same_torch_expression(text, reference):
    f = compile_expression(text)
    torch.testing.assert_close(f(X, Y), reference(X, Y), rtol=1e-12, atol=1e-12)


def test_gradient_through_a_formula_matches_the_hand_derivative():
    f = compile_expression("x^2*y + sin(y)")
    x = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(-0.7, dtype=torch.float64, requires_grad=True)
    gx, gy = torch.autograd.grad(f(x, y), (x, y))
    torch.testing.assert_close(gx, 2 * x.detach() * y.detach(), rtol=1e-12, atol=0)
    torch.testing.assert_close(gy, x.detach() ** 2 + torch.cos(y.detach()), rtol=1e-12, atol=0)


def test_constant_formula_broadcasts_to_the_input_shape():
    assert compile_expression("3")(X, Y).shape == X.shape


def test_division_by_zero_and_overflow_give_inf_not_an_exception():
    x, y = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    out = compile_expression("1/x + exp(1000*y)")(x, y)
    assert torch.isinf(out).all()


@pytest.mark.parametrize(("text", "code"), [
    ("", "empty"), ("   ", "empty"),
    ("x +", "syntax"), ("x y", "syntax"), ("(x", "syntax"), ("x\x00", "syntax"),
    ("__import__('os').system('ls')", "function"),
    ("x.real", "node"), ("().__class__", "node"), ("x[0]", "node"), ("x if y else 1", "node"),
    ("x < y", "node"), ("lambda: 1", "node"), ("[x, y]", "node"), ("x @ y", "node"), ("x % 2", "node"),
    ("z + 1", "name"), ("os", "name"), ("True + x", "constant"), ("'a'", "constant"), ("1e400*x", "constant"),
    ("eval('1')", "function"), ("sin(x, y)", "arity"), ("max(x)", "arity"), ("sin(x=1)", "arity"),
    ("(lambda q: q)(x)", "function"),
])
def test_unsafe_or_malformed_formulas_raise_value_errors_with_a_code(text, code):
    with pytest.raises(ValueError) as e:
        compile_expression(text)
    assert isinstance(e.value, ExpressionError) and e.value.code == code


def test_length_and_size_caps():
    with pytest.raises(ExpressionError) as e:
        compile_expression("x+" * 100 + "x")
    assert e.value.code == "too_long" and len("x+" * 100 + "x") > MAX_LENGTH
    with pytest.raises(ExpressionError) as e:
        compile_expression("+".join(["x*y"] * 40))
    assert e.value.code == "too_complex"
    with pytest.raises(ExpressionError) as e:
        compile_expression("(" * 150 + "x" + ")" * 49)
    assert e.value.code in ("syntax", "too_long", "too_complex")


def test_nine_to_the_nine_to_the_nine_is_refused_quickly_or_is_inf():
    # 9**9**9 with literal integers would hang Python's big integers; here every literal is a float tensor
    out = compile_expression("9^9^9 + 0*x")(X, Y)
    assert torch.isinf(out).all()


def test_a_caller_may_name_its_own_variables_and_a_shorter_length_cap():
    # the one parser serves the optimizer race's f(x, y) and the activations lesson's curve y(x)
    f = compile_expression("x^2 + t", variables=("t", "x"))
    torch.testing.assert_close(f(Y, X), X**2 + Y, rtol=0, atol=0)
    assert f.variables == ("t", "x") and compile_expression("x").variables == ("x", "y")
    with pytest.raises(ExpressionError) as e:
        compile_expression("x + y", variables=("x",))
    assert (e.value.code, e.value.detail) == ("name", "y")
    with pytest.raises(ExpressionError) as e:
        compile_expression("x + 1", max_length=4)
    assert (e.value.code, e.value.detail) == ("too_long", "5")


def test_step_functions_are_allowed_and_have_zero_gradient_almost_everywhere():
    f = compile_expression("sign(x) + floor(y) + ceil(x)")
    torch.testing.assert_close(f(X, Y), X.sign() + Y.floor() + X.ceil(), rtol=0, atol=0)
    x = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(f(x, x), (x,))
    assert g == 0
