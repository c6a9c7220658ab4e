"""Claim tests of the receptive-field lesson: every sentence a learner reads about what the lab shows, run through
dlcore with the lesson's own presets and defaults (ui.experiments.receptive_field)."""

import dataclasses
import functools

import numpy as np
import pytest
import torch

from dlcore import famous_cnns as zoo
from dlcore import receptive_field as rf
from ui.experiments import receptive_field as experiment

SEEDS = range(5)


def _table(preset: str | None = None, **changes):
    return experiment.table({**experiment.settings(preset), **changes})


def _network(name: str):
    net = zoo.NETWORKS[name]
    return rf.table(zoo.network_layers(name), net.input_size, net.in_channels)


@functools.cache
def _erf(seed: int, **changes) -> rf.ERFResult:
    values = {**experiment.settings("erf"), **changes}
    layers, n = experiment.erf_stack(values)
    return rf.effective_field(layers, experiment.erf_config(values, n, seed))


def _gauss(profile: np.ndarray, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """A column profile (peak 1) and the Gaussian of the same centre and sigma that the figure draws over it."""
    p = profile / profile.max()
    x = np.arange(len(p))
    centre = (p * x).sum() / p.sum()
    return p, np.exp(-0.5 * ((x - centre) / sigma) ** 2)


# ---------------------------------------------------------------- the notes' example and the presets

def test_notes_example_gives_3_4_8_10_18_26_30_and_drops_one_row_at_row_4():
    """presets.notes: "The table reproduces the notes: r = 3, 4, 8, 10, 18, 26, 30. Row 4 is tinted: 29 rows cannot be
    split evenly by a stride-2 pool, so one row of pixels is dropped."; receptive_field.md: "gives 3, 4, 8, 10, 18,
    26, 30: the last unit sees 30 × 30 pixels"; networks.notes7: "four 3×3 convolutions and three 2×2 max pools"."""
    for df in (_table("notes"), _table()):                                  # the preset and the page's default
        assert list(df.rf) == [3, 4, 8, 10, 18, 26, 30]
        assert [i + 1 for i, d in enumerate(df.dropped) if d > 0] == [4]
        assert df.in_size.iloc[3] == 29 and df.stride.iloc[3] == 2 and df.dropped.iloc[3] == 1
    kinds = [(x.kind, x.kernel) for x in experiment.layers(experiment.settings("notes"))]
    assert kinds.count(("conv", 3)) == 4 and kinds.count(("max_pool", 2)) == 3 and len(kinds) == 7


def test_a_dropped_row_gets_no_gradient_from_any_unit():
    """receptive_field.md: "When the division is not exact, the last rows and columns of the input are skipped by every
    window: they are dropped."; table_hint (the notes' pool on 29 rows)."""
    pool = experiment.layers(experiment.settings("notes"))[3]
    x = torch.randn(1, 3, 29, 29, requires_grad=True)
    rf.to_module([pool], 3)(x).sum().backward()
    assert float(x.grad[..., 28, :].abs().max()) == 0.0 and float(x.grad[..., :28, :28].abs().sum()) > 0


def test_two_stacked_3x3_convolutions_see_5x5_with_28_percent_fewer_parameters():
    """presets.vgg: "Two stacked 3×3 convolutions (64 → 64 channels) already see 5 × 5 pixels, like a single 5×5 one,
    with 73,856 parameters instead of 102,464 (28% fewer)"; receptive_field.md: "Two stacked 3×3 convolutions see as far
    as one 5×5 with 18C² instead of 25C² weights"."""
    two = _table("vgg")
    one = _table("vgg", net="c5p2x64@conv")
    assert two.rf.iloc[-1] == one.rf.iloc[-1] == 5
    assert (two.params.sum(), one.params.sum()) == (73_856, 102_464)
    assert round(100 * (1 - two.params.sum() / one.params.sum())) == 28
    C = 64
    assert (two.params.sum() - 2 * C, one.params.sum() - C) == (18 * C * C, 25 * C * C)     # weights without biases


def test_an_early_stride_makes_every_later_3x3_add_4_instead_of_2():
    """presets.early_stride: "With stride 2 in the first layer the jump is 2, so each later 3×3 convolution adds 4
    instead of 2: the field reaches 15 instead of 9."; notice: "a stride early on multiplies everything after it"."""
    strided = _table("early_stride")
    plain = _table("early_stride", net=experiment.PRESETS["early_stride"]["net"].replace("c3s2p1", "c3p1", 1))
    assert list(strided.jump) == [2, 2, 2, 2] and list(np.diff(strided.rf)) == [4, 4, 4]
    assert list(np.diff(plain.rf)) == [2, 2, 2]
    assert (strided.rf.iloc[-1], plain.rf.iloc[-1]) == (15, 9)


def test_dilation_doubles_the_field_for_the_parameters_of_plain_3x3_convolutions():
    """presets.dilated: "Dilation 1, 2, 4, …, 32 doubles the field at every layer, up to 127 pixels, with exactly the
    parameters of six ordinary 3×3 convolutions (which would see only 13)"; networks.dilated; receptive_field.md:
    "dilation grows the field with no extra weights at all"."""
    values = experiment.settings("dilated")
    dilated = experiment.table(values)
    plain_layers = [dataclasses.replace(x, dilation=1, padding=1) for x in experiment.layers(values)]
    plain = rf.table(plain_layers, int(values["size"]), int(values["in_ch"]))
    assert list(dilated.dilation) == [1, 2, 4, 8, 16, 32]
    assert list(dilated.rf + 1) == [4, 8, 16, 32, 64, 128]                        # (r + 1) doubles: r = 3, 7, ..., 127
    assert plain.rf.iloc[-1] == 13 and list(plain.params) == list(dilated.params)


def test_a_pool_and_a_stride_2_convolution_both_double_the_jump():
    """presets.pool_vs_stride: "Both the 2×2 max pool and the stride-2 3×3 convolution double the jump. The pool adds 1
    to the field and has no parameters; the convolution adds 2 jumps and costs 9,248 parameters."."""
    df = _table("pool_vs_stride").set_index("name")
    before = {"pool": df.loc["conv1"], "conv_s2": df.loc["conv2"]}
    for name in ("pool", "conv_s2"):
        assert df.loc[name].jump == 2 * before[name].jump
    assert df.loc["pool"].rf - before["pool"].rf == 1 and df.loc["pool"].params == 0
    assert df.loc["conv_s2"].rf - before["conv_s2"].rf == 2 * before["conv_s2"].jump
    assert df.loc["conv_s2"].params == 9_248


# ---------------------------------------------------------------- famous networks

@pytest.mark.parametrize(("name", "field"), [("alexnet", 195), ("vgg16", 212), ("resnet18", 435), ("resnet50", 427),
                                             ("mobilenet_v1", 315), ("dilated", 127)])
def test_famous_networks_have_the_fields_their_notes_state(name, field):
    """networks.alexnet "receptive field 195"; networks.vgg16 "212"; networks.resnet50 "427, as Araujo et al. (2019)
    report"; networks.mobilenet_v1 "315"; networks.dilated "127 pixels" (resnet18: the page shows 435)."""
    assert _network(name).rf.iloc[-1] == field


def test_lenet5_c5_sees_the_whole_image_and_the_architectures_are_as_described():
    """networks.lenet5: "5×5 convolutions and 2×2 average pooling; the C5 unit sees the whole image";
    networks.alexnet: "an 11×11 stride-4 first layer"; networks.vgg16: "thirteen 3×3 convolutions in five blocks, each
    closed by a 2×2 max pool"; networks.digits_cnn: "two 3×3 convolutions and a 2×2 max pool"."""
    lenet = _network("lenet5")
    assert lenet.rf.iloc[-1] >= zoo.NETWORKS["lenet5"].input_size and lenet.out_size.iloc[-1] == 1
    assert {(k, x) for k, x in zip(lenet.kind, lenet.kernel)} == {("conv", 5), ("avg_pool", 2)}
    alex = _network("alexnet")
    assert (alex.kernel.iloc[0], alex.stride.iloc[0]) == (11, 4)
    vgg = _network("vgg16")
    assert list(vgg.kind).count("conv") == 13 and set(vgg.kernel[vgg.kind == "conv"]) == {3}
    pools = [i for i, k in enumerate(vgg.kind) if k == "max_pool"]
    assert len(pools) == 5 and pools[-1] == len(vgg) - 1 and set(vgg.kernel.iloc[pools]) == {2}
    digits = _network("digits_cnn")
    assert [(k, x) for k, x in zip(digits.kind, digits.kernel)] == [("conv", 3), ("conv", 3), ("max_pool", 2)]


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_every_resnet_shortcut_sees_less_than_the_main_path(name):
    """networks.resnet18: "The shortcuts (identity or a 1×1 stride-2 convolution) are skipped; they see less, so the
    main path gives the largest field." (every path that takes one block's shortcut instead of its convolutions)."""
    layers = zoo.network_layers(name)
    net = zoo.NETWORKS[name]
    main = rf.table(layers, net.input_size, net.in_channels).rf.iloc[-1]
    blocks = sorted({x.name.rsplit(".", 1)[0] for x in layers if x.name.startswith("layer")})
    for block in blocks:
        inside = [i for i, x in enumerate(layers) if x.name.startswith(block + ".")]
        stride = max(layers[i].stride for i in inside)
        shortcut = [rf.Layer("conv", 1, stride, name="shortcut")] if stride > 1 else []
        path = layers[:inside[0]] + shortcut + layers[inside[-1] + 1:]
        assert rf.table(path, net.input_size, net.in_channels).rf.iloc[-1] < main, block


def test_mobilenet_is_depthwise_then_pointwise_with_fewer_multiply_adds_than_alexnet():
    """networks.mobilenet_v1: "3×3 depthwise convolutions (groups = channels) followed by 1×1 pointwise ones; receptive
    field 315 for 0.57 billion multiply-adds, fewer than AlexNet's convolutions and 27 times fewer than VGG-16's";
    help.groups: "equal to the input channels is a depthwise convolution (MobileNet)"."""
    mobile = _network("mobilenet_v1")
    depthwise = mobile[(mobile.kernel == 3) & (mobile.c_in > 3)]
    assert len(depthwise) == 13 and all(depthwise.c_in == depthwise.c_out)
    layers = zoo.network_layers("mobilenet_v1")
    for i in depthwise.index:
        assert layers[i].groups == depthwise.c_in[i] and (layers[i + 1].kernel, layers[i + 1].groups) == (1, 1)
    macs = {name: _network(name).macs.sum() for name in ("mobilenet_v1", "alexnet", "vgg16")}
    assert round(macs["mobilenet_v1"] / 1e9, 2) == 0.57 and macs["mobilenet_v1"] < macs["alexnet"]
    assert round(macs["vgg16"] / macs["mobilenet_v1"]) == 27


def test_parameter_and_output_counts_match_pytorch_for_grouped_convolutions():
    """receptive_field.md: "A convolution with c_in input and c_out output channels in g groups has k² c_in c_out / g
    weights (plus c_out biases)"; torch_check: "every layer's output size and parameter count match the table"."""
    for name in ("mobilenet_v1", "notes7", "dilated"):
        net = zoo.NETWORKS[name]
        df = _network(name)
        check = rf.torch_check(zoo.network_layers(name), net.input_size, net.in_channels)
        assert list(check.params) == list(df.params) and list(check.out_sizes) == list(df.out_size)


def test_pooling_padding_beyond_half_the_kernel_is_refused_by_pytorch():
    """help.padding: "pooling: at most half the kernel"; errors.pool_padding: "(PyTorch refuses it)"."""
    with pytest.raises(RuntimeError):
        torch.nn.MaxPool2d(2, 2, padding=2)(torch.zeros(1, 1, 8, 8))
    _, err = rf.partial_table(rf.parse_spec("m2s2p2@pool"), 8, 1)
    assert err is not None and err.code == "pool_padding"


# ---------------------------------------------------------------- where the field lies

@pytest.mark.parametrize("preset", ["notes", "pool_vs_stride", "dilated"])
def test_no_pixel_outside_the_square_reaches_a_unit(preset):
    """receptive_field.md: "Nothing outside it has any influence: its gradient with respect to those pixels is exactly
    zero."; autograd.square: "exactly the formula's square clipped to the image"."""
    values = experiment.settings(preset)
    layers, n = experiment.layers(values), min(int(values["size"]), 64)
    out = int(rf.table(layers, n, 3).out_size.iloc[-1])
    for row, col in {(0, 0), (out // 2, out // 2), (out - 1, 0), (out - 1, out - 1)}:
        u = rf.unit_field(layers, n, 3, row, col)
        assert u.check in ("square", "border") and u.measured is not None
        top, bottom, left, right = u.box
        r0, r1, c0, c1 = u.measured
        assert top <= r0 and r1 <= bottom and left <= c0 and c1 <= right
        if u.check == "square":
            assert (r0, r1, c0, c1) == (max(0, int(np.ceil(top))), min(n - 1, int(bottom)),
                                        max(0, int(np.ceil(left))), min(n - 1, int(right)))


def test_units_near_the_border_reach_into_the_padding():
    """receptive_field.md: "Units near the border reach into the padding." (the custom network, padding 1)."""
    df = _table(model="custom")
    top, _, left, _ = rf.field_box(df, len(df), 0, 0)
    assert top < 0 and left < 0


# ---------------------------------------------------------------- the effective receptive field

@pytest.mark.parametrize("seed", SEEDS)
def test_twenty_layers_see_41_pixels_but_the_gradient_is_a_blob_about_half_as_wide(seed):
    """presets.erf: "Twenty 3×3 convolutions see 41 pixels in theory, but the gradient is a Gaussian blob about half as
    wide."; erf_notice: "pixels near the edge of the field barely matter"; notice: "the effective field is a Gaussian
    blob well inside the theoretical square"."""
    res = _erf(seed)
    assert res.rf == 41 and 0.4 <= res.erf_random / res.rf <= 0.65
    edge = np.concatenate([res.random[0], res.random[-1], res.random[:, 0], res.random[:, -1]])
    assert edge.max() < 0.01                                                     # share of the peak
    profile, gauss = _gauss(res.random.sum(0), res.sigma_random)               # random weights: a noisy Gaussian
    assert np.corrcoef(profile, gauss)[0, 1] > 0.95
    profile, gauss = _gauss(res.uniform.sum(0), res.sigma_uniform)             # the number of paths: a clean one
    assert np.abs(profile - gauss).max() < 0.05


@pytest.mark.parametrize("seed", SEEDS)
def test_the_theoretical_width_grows_like_depth_and_the_effective_one_like_its_square_root(seed):
    """presets.erf: "Lower the depth: the theoretical width falls like L, the effective one only like √L.";
    fig.growth_title; receptive_field.md: "the gradient ... has a Gaussian shape whose width grows like √L, while r_L
    grows like L"."""
    gr = experiment.growth(experiment.settings("erf"), seed)
    assert list(gr.rf) == list(2 * gr.depth + 1)
    five, twenty = list(gr.depth).index(5), list(gr.depth).index(20)           # four times deeper:
    assert gr.rf[twenty] / gr.rf[five] > 3.5                                   # the theoretical width ~ 4 times,
    assert 1.6 < gr.erf_random[twenty] / gr.erf_random[five] < 2.5             # the effective one ~ sqrt(4) = 2 times
    sqrt_err = np.abs(gr.erf_random - gr.sqrt_fit * np.sqrt(gr.depth)) / gr.erf_random
    slope = (gr.depth * gr.erf_random).sum() / (gr.depth ** 2).sum()
    linear_err = np.abs(gr.erf_random - slope * gr.depth) / gr.erf_random
    assert sqrt_err.mean() < 0.7 * linear_err.mean()                           # sqrt(L) fits better than L
    assert (np.diff(gr.erf_random / gr.rf) <= 0).all()                         # a shrinking share of the field


def test_the_number_of_paths_is_largest_in_the_centre():
    """receptive_field.md: "The number of paths from a pixel to the unit is largest in the centre"."""
    res = _erf(0)
    assert np.unravel_index(np.argmax(res.uniform), res.uniform.shape) == (res.rf // 2, res.rf // 2)


def test_a_pool_every_four_layers_doubles_the_jump_and_grows_the_field_faster():
    """help.erf_pool: "A 2×2 max pool with stride 2 after every 4 convolutions: the jump doubles and the fields grow
    faster."."""
    values = {**experiment.settings(), "erf_depth": 12}
    pooled, _ = experiment.erf_stack({**values, "erf_pool": True})
    plain, _ = experiment.erf_stack(values)
    p, q = rf.table(pooled, rf.MAX_INPUT, 1), rf.table(plain, rf.MAX_INPUT, 1)
    assert list(p.jump[p.kind == "max_pool"]) == [2, 4] and p.rf.iloc[-1] > q.rf.iloc[-1]


def test_without_relu_the_network_is_linear_and_its_gradient_ignores_the_input():
    """help.erf_relu: "Without it the network is linear and its gradient no longer depends on the input." (with it, it
    does)."""
    layers, n = experiment.erf_stack(experiment.settings())
    layers = [dataclasses.replace(x, channels=rf.ERF_WIDTH) for x in layers]   # as effective_field measures it
    grads = {}
    for relu in (False, True):
        torch.manual_seed(0)
        model = rf.to_module(layers, 1, relu=relu)
        g = []
        for seed in (1, 2):
            x = torch.randn(1, 1, n, n, generator=torch.Generator().manual_seed(seed), requires_grad=True)
            y = model(x)
            (d,) = torch.autograd.grad(y[0, :, n // 2, n // 2].sum(), x)
            g.append(d)
        grads[relu] = g
    torch.testing.assert_close(grads[False][0], grads[False][1])
    a, b = grads[True]
    assert float((a - b).abs().max()) > 0.1 * float(a.abs().max())           # with ReLU the input matters


def test_the_theoretical_square_is_dashed_in_the_effective_field_figure():
    """fig.erf_title: "Theoretical field {r} px (dashed) vs 95% of the gradient"."""
    from ui.figures import receptive_field as figs

    res = _erf(0)
    fig = figs.effective_vs_theoretical(res, titles=("a", "b", "c"), title="", profile_x="", profile_y="",
                                        names=("r", "u", "g", "e"), hover="")
    dashed = [s for s in fig.layout.shapes if s.line.dash == "dash"]
    assert len(dashed) == 2
    top, bottom, left, right = res.box
    assert all((s.y0, s.y1, s.x0, s.x1) == (top - 0.5, bottom + 0.5, left - 0.5, right + 0.5) for s in dashed)
