"""dlcore.conv against torch.nn.functional, hand-derived sizes and the seed notes' formulas."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from dlcore import conv

CASES = list(itertools.product([3, 5, 8], [1, 2, 3, 4], [1, 2, 3], [0, 1, 2], [1, 2]))


def _torch_conv_size(i, k, s, p, d):
    try:
        return F.conv2d(torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]
    except RuntimeError:
        return None


@pytest.mark.parametrize("i,k,s,p,d", CASES)
def test_conv_output_size_matches_torch_and_refuses_where_torch_refuses(i, k, s, p, d):
    expected = _torch_conv_size(i, k, s, p, d)
    if expected is None:
        with pytest.raises(ValueError):
            conv.conv_output_size(i, k, s, p, d)
    else:
        assert conv.conv_output_size(i, k, s, p, d) == expected


@pytest.mark.parametrize("i,k,s,p,d,op", [c + (op,) for c in CASES[::3] for op in (0, 1, 2)])
def test_conv_transpose_output_size_matches_torch_and_refuses_where_torch_refuses(i, k, s, p, d, op):
    try:
        expected = F.conv_transpose2d(torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), stride=s, padding=p,
                                      dilation=d, output_padding=op).shape[-1]
    except RuntimeError:
        expected = None
    if expected is None:
        with pytest.raises(ValueError):
            conv.conv_transpose_output_size(i, k, s, p, d, op)
    else:
        assert conv.conv_transpose_output_size(i, k, s, p, d, op) == expected


def test_notes_transposed_size_formula_for_unit_dilation():
    # seed 001: o = (W - 1) s - 2p + k
    for w, s, p, k in itertools.product([2, 4, 7], [1, 2, 3], [0, 1], [2, 3, 4]):
        assert conv.conv_transpose_output_size(w, k, s, p) == (w - 1) * s - 2 * p + k


def test_hand_derived_sizes():
    assert conv.conv_output_size(7, 3, 1, 1) == 7          # same padding
    assert conv.conv_output_size(8, 3, 2, 1) == 4          # stride 2 halves
    assert conv.conv_output_size(9, 3, 1, 0, 2) == 5       # dilation 2: 5x5 field
    assert conv.inputs_with_same_output(4, 3, 2, 1) == [7, 8]


def test_bad_hyperparameters_raise_value_error():
    for args in [(0, 3), (5, 0), (5, 3, 0), (5, 3, 1, -1), (5, 3, 1, 0, 0)]:
        with pytest.raises(ValueError):
            conv.conv_output_size(*args)
    with pytest.raises(ValueError):
        conv.conv_transpose_output_size(4, 3, 2, 0, 1, output_padding=2)


@pytest.mark.parametrize("n,k,s,p,d", [(6, 3, 1, 0, 1), (7, 3, 2, 1, 1), (9, 3, 1, 2, 2), (5, 1, 3, 4, 1),
                                       (16, 3, 1, 1, 1), (8, 4, 3, 2, 2)])
def test_conv2d_trace_products_sum_to_torch_output(n, k, s, p, d):
    g = torch.Generator().manual_seed(n * 10 + k)
    x = torch.randn(n, n, generator=g, dtype=torch.float64)
    w = torch.randn(k, k, generator=g, dtype=torch.float64)
    tr = conv.conv2d_trace(x, w, stride=s, padding=p, dilation=d)
    ref = F.conv2d(x[None, None], w[None, None], stride=s, padding=p, dilation=d)[0, 0]
    torch.testing.assert_close(tr.products.sum((-1, -2)), ref, rtol=0, atol=1e-12)
    torch.testing.assert_close(tr.output, ref)
    # taps are spaced d apart and windows s apart, inside the padded input
    assert int(tr.rows[0, 0, 1, 0] - tr.rows[0, 0, 0, 0]) == d if k > 1 else True
    assert int(tr.rows.max()) < tr.padded.shape[0] and int(tr.cols.max()) < tr.padded.shape[1]


@pytest.mark.parametrize("n,k,s,p,d,op", [(3, 3, 1, 0, 1, 0), (3, 3, 2, 0, 1, 0), (4, 3, 2, 1, 1, 1),
                                          (3, 4, 2, 1, 1, 0), (4, 3, 3, 2, 2, 1), (2, 2, 1, 0, 3, 2),
                                          (5, 1, 2, 0, 1, 1), (5, 3, 1, 3, 1, 0)])
def test_transposed_scatter_and_direct_views_equal_conv_transpose2d(n, k, s, p, d, op):
    g = torch.Generator().manual_seed(n + 7 * k + s)
    x = torch.randn(n, n, generator=g, dtype=torch.float64)
    w = torch.randn(k, k, generator=g, dtype=torch.float64)
    v = conv.conv_transpose2d_views(x, w, stride=s, padding=p, dilation=d, output_padding=op)
    ref = F.conv_transpose2d(x[None, None], w[None, None], stride=s, padding=p, dilation=d, output_padding=op)[0, 0]
    torch.testing.assert_close(conv.scatter_output(v, p), ref)
    torch.testing.assert_close(conv.direct_output(v, d), ref)
    torch.testing.assert_close(v.stamps.sum((0, 1)), v.canvas)
    torch.testing.assert_close(v.flipped, torch.rot90(w, 2))


def test_direct_view_zero_pattern_matches_notes_for_p0_d1():
    # seed 001: k - 1 zeros at both ends, s - 1 zeros between inputs
    x = torch.ones(3, 3)
    v = conv.conv_transpose2d_views(x, torch.ones(3, 3), stride=2)
    row = v.dilated[2]  # the first row holding inputs (after k-1 = 2 border rows)
    assert row.tolist() == [0, 0, 1, 0, 1, 0, 1, 0, 0]
    assert v.dilated[:2].abs().sum() == 0


@pytest.mark.parametrize("n,k,s,p,d", [(5, 3, 1, 0, 1), (6, 3, 2, 1, 1), (6, 2, 1, 1, 2), (4, 3, 3, 1, 1)])
def test_conv_matrix_times_input_is_convolution_and_its_transpose_is_the_gradient(n, k, s, p, d):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, n, generator=g, dtype=torch.float64)
    w = torch.randn(k, k, generator=g, dtype=torch.float64)
    c = conv.conv_matrix(n, n, w, stride=s, padding=p, dilation=d)
    y = F.conv2d(x[None, None], w[None, None], stride=s, padding=p, dilation=d)[0, 0]
    torch.testing.assert_close(c @ x.flatten(), y.flatten())
    gy = torch.randn(y.shape, generator=g, dtype=torch.float64)
    grad = conv.input_gradient(x, w, gy, stride=s, padding=p, dilation=d)
    torch.testing.assert_close(grad.flatten(), c.T @ gy.flatten())
    extra = n - conv.conv_transpose_output_size(y.shape[0], k, s, p, d)
    ct = F.conv_transpose2d(gy[None, None], w[None, None], stride=s, padding=p, dilation=d, output_padding=extra)[0, 0]
    torch.testing.assert_close(ct.flatten(), c.T @ gy.flatten())


def test_overlap_counts_checkerboard_for_k3_s2_and_flat_for_k4_s2():
    c3 = conv.overlap_counts(6, 6, 3, 2)
    assert c3[1:-1, 1:-1].unique().tolist() == [1.0, 2.0, 4.0]  # uneven: a checkerboard
    c4 = conv.overlap_counts(6, 6, 4, 2)
    assert c4[2:-2, 2:-2].unique().tolist() == [4.0]            # even: every interior cell twice per axis
    assert conv.overlap_counts(4, 4, 2, 2).unique().tolist() == [1.0]


def test_upsampling_a_constant_image_shows_checkerboard_only_for_k3():
    up = conv.upsample_x2(torch.ones(10, 10))
    inner = (slice(2, -2), slice(2, -2))
    assert float(up.transposed_k3[inner].std()) > 0.1
    torch.testing.assert_close(up.transposed_k4[inner], torch.ones(16, 16))
    torch.testing.assert_close(up.resize_conv, torch.ones(20, 20))


def test_grey_is_a_1x1_convolution_with_luma_weights():
    rgb = torch.rand(3, 5, 7, generator=torch.Generator().manual_seed(0))
    expected = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    torch.testing.assert_close(conv.to_grey(rgb), expected)


def test_classic_kernels_do_what_their_names_say():
    ks = conv.classic_kernels()
    x = torch.rand(1, 8, 8, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(conv.feature_maps(x, ks["identity"][None, None])[0], x[0])
    const = torch.full((1, 6, 6), 3.0)
    for name in ("box_blur", "gaussian_blur", "sharpen"):
        assert float(ks[name].sum()) == pytest.approx(1.0)  # keep flat regions flat
    for name in ("edge", "sobel_x", "sobel_y"):
        out = conv.feature_maps(const, ks[name][None, None], padding=0)
        assert float(out.abs().max()) == 0.0  # no response on a flat image
    ramp = torch.arange(6.0).repeat(6, 1)[None]  # brightness grows left to right
    assert float(conv.feature_maps(ramp, ks["sobel_x"][None, None], padding=0).min()) == 8.0


def test_conv_cost_matches_torch_parameter_counts_and_notes_ratio():
    h, w, n, m, k, g = 14, 14, 32, 64, 3, 4
    std = torch.nn.Conv2d(n, m, k, padding=1, bias=False)
    grp = torch.nn.Conv2d(n, m, k, padding=1, groups=g, bias=False)
    dw = torch.nn.Conv2d(n, n, k, padding=1, groups=n, bias=False)
    pw = torch.nn.Conv2d(n, m, 1, bias=False)
    assert conv.conv_cost(h, w, n, m, k).params == std.weight.numel()
    assert conv.conv_cost(h, w, n, m, k, "grouped", g).params == grp.weight.numel()
    assert conv.conv_cost(h, w, n, m, k, "depthwise").params == dw.weight.numel()
    assert conv.conv_cost(h, w, n, m, k, "pointwise").params == pw.weight.numel()
    # multiply-adds: every output element of a standard conv needs N K^2 of them
    assert conv.conv_cost(h, w, n, m, k).mult_adds == h * w * m * n * k * k
    sep = conv.conv_cost(h, w, n, m, k, "separable").mult_adds / conv.conv_cost(h, w, n, m, k).mult_adds
    assert sep == pytest.approx(1 / m + 1 / k**2)
    with pytest.raises(ValueError):
        conv.conv_cost(h, w, 30, 64, 3, "grouped", 4)


def test_lesson_inputs_are_seeded_and_bounded():
    a = conv.make_input("random", 6, seed=3)
    assert torch.equal(a, conv.make_input("random", 6, seed=3)) and 0 <= a.min() and a.max() <= 9
    assert conv.make_input("photo", 16, 0).shape == (16, 16)
    assert conv.make_kernel("edge", 3, 0).sum() == 0 and conv.make_kernel("edge", 5, 0).shape == (5, 5)
    with pytest.raises(ValueError, match="Invalid input size"):
        conv.make_input("random", conv.MAX_SIZE + 1, 0)
    assert conv.smooth_image(24).shape == (24, 24)


def test_random_layer_is_seeded_like_nn_conv2d():
    a, b = conv.random_layer(3, 4, 3, seed=5), conv.random_layer(3, 4, 3, seed=5)
    assert a.shape == (4, 3, 3, 3) and torch.equal(a, b)
    bound = 1 / (3 * 9) ** 0.5  # kaiming_uniform(a=sqrt(5)) bound for fan_in 27
    assert float(a.abs().max()) <= bound + 1e-6


# ---- the lesson's config, sizes, matrix view and cost rows ------------------------------------------------------

@pytest.mark.parametrize(("field", "value", "match"), [
    ("size", conv.MAX_SIZE + 1, "Invalid size"), ("size", 0, "Invalid size"), ("k", conv.MAX_KERNEL + 1, "Invalid k"),
    ("stride", conv.MAX_STRIDE + 1, "Invalid stride"), ("padding", conv.MAX_PADDING + 1, "Invalid padding"),
    ("padding", -1, "Invalid padding"), ("dilation", conv.MAX_DILATION + 1, "Invalid dilation"),
    ("output_padding", conv.MAX_OUTPUT_PADDING + 1, "Invalid output_padding"),
    ("source", "typed", "Invalid source"), ("kernel", "sobel_y", "Invalid kernel"),
])
def test_an_over_cap_config_value_raises_value_error_naming_it(field, value, match):
    with pytest.raises(ValueError, match=match):
        conv.ConvConfig(**{field: value})


def test_typed_input_must_be_a_size_by_size_grid_of_bounded_numbers():
    grid = tuple(tuple(float(3 * r + c) for c in range(3)) for r in range(3))
    torch.testing.assert_close(conv.ConvConfig(size=3, typed=grid).input(), torch.arange(9.0).view(3, 3))
    for bad in (grid[:2], ((1.0, 2.0, float("nan")),) + grid[1:], ((1.0, 2.0, conv.MAX_TYPED * 2),) + grid[1:]):
        with pytest.raises(ValueError, match="Invalid typed input"):
            conv.ConvConfig(size=3, typed=bad)


def test_config_input_and_weight_are_the_lesson_inputs():
    cfg = conv.ConvConfig(size=7, k=3, source="photo", kernel="edge", seed=2)
    assert torch.equal(cfg.input(), conv.make_input("photo", 7, 2))
    assert torch.equal(cfg.weight(), conv.make_kernel("edge", 3, 2))


def test_bad_kinds_and_shapes_raise_value_error():
    for call in (lambda: conv.make_input("noise", 6, 0), lambda: conv.make_kernel("sobel_y", 3, 0),
                 lambda: conv.make_kernel("random", conv.MAX_KERNEL + 1, 0),
                 lambda: conv.conv2d_trace(torch.zeros(4, 4), torch.zeros(2, 3)),
                 lambda: conv.conv_transpose2d_views(torch.zeros(4), torch.zeros(3, 3))):
        with pytest.raises(ValueError, match="Invalid"):
            call()


@pytest.mark.parametrize("i,k,s,p,d,op", [c + (op,) for c in CASES[::5] for op in (0, 1)])
def test_sizes_are_torchs_sizes_or_say_why_torch_refuses(i, k, s, p, d, op):
    got = conv.sizes(i, k, s, p, d, op)
    assert got.span == d * (k - 1) + 1 and got.padded == i + 2 * p
    assert got.output == _torch_conv_size(i, k, s, p, d)
    if got.output is not None:
        assert i in got.same_inputs
        assert all(_torch_conv_size(j, k, s, p, d) == got.output for j in got.same_inputs)
    try:
        expected = F.conv_transpose2d(torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), stride=s, padding=p,
                                      dilation=d, output_padding=op).shape[-1]
    except RuntimeError:
        expected = None
    assert got.transposed == expected and (got.transposed_error is None) == (expected is not None)


@pytest.mark.parametrize("n,k,s,p,d", [(6, 3, 1, 0, 1), (6, 3, 2, 1, 1), (5, 2, 1, 1, 2), (6, 3, 3, 1, 1)])
def test_matrix_view_is_the_convolution_matrix_and_its_checks_hold(n, k, s, p, d):
    g = torch.Generator().manual_seed(3)
    x, w = torch.randn(n, n, generator=g), torch.randn(k, k, generator=g)
    view = conv.matrix_view(x, w, stride=s, padding=p, dilation=d, seed=0)
    y = F.conv2d(x.double()[None, None], w.double()[None, None], stride=s, padding=p, dilation=d)[0, 0]
    torch.testing.assert_close(view.matrix @ x.double().flatten(), y.flatten())        # against torch, here
    assert len(view.errors) == 3 and max(view.errors) < 1e-12


def test_cost_rows_leave_out_the_grouped_layer_when_groups_do_not_divide_the_channels():
    assert [r.kind for r in conv.cost_rows(56, 56, 64, 128, 3, 4)] == \
        ["standard", "grouped", "depthwise", "pointwise", "separable"]
    assert [r.kind for r in conv.cost_rows(56, 56, 64, 128, 3, 3)] == \
        ["standard", "depthwise", "pointwise", "separable"]
    std = torch.nn.Conv2d(64, 128, 3, groups=4, bias=False)
    assert conv.cost_rows(56, 56, 64, 128, 3, 4)[1].params == std.weight.numel()
