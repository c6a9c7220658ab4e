"""dlcore.receptive_field and dlcore.famous_cnns against independent references: the notes' worked
example, published receptive fields, the real torch.nn layers (output sizes, parameters,
multiply-adds) and autograd on independently built torch models (which pixels reach a unit)."""

import math
import time

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from dlcore import famous_cnns as zoo
from dlcore import receptive_field as rf
from dlcore.receptive_field import Layer

NOTES = [Layer("conv", 3), Layer("max_pool", 2, 2), Layer("conv", 3), Layer("max_pool", 2, 2), Layer("conv", 3),
         Layer("conv", 3), Layer("max_pool", 2, 2)]


def _torch_chain(layers, weight_seed: int = 0) -> nn.Sequential:
    """An independent torch model of a table: 1-channel convs with random *positive* weights,
    real average pools (max pools as their average-pool twins: every window input can win)."""
    g = torch.Generator().manual_seed(weight_seed)
    mods = []
    for x in layers:
        if x.kind == "conv":
            conv = nn.Conv2d(1, 1, x.kernel, x.stride, x.padding, x.dilation, bias=False, dtype=torch.float64)
            with torch.no_grad():
                conv.weight.copy_(torch.rand(conv.weight.shape, generator=g, dtype=torch.float64) + 0.1)
            mods.append(conv)
        elif x.dilation == 1:
            mods.append(nn.AvgPool2d(x.kernel, x.stride, x.padding))
        else:  # a dilated max-pool window: a dilated conv with equal positive taps
            conv = nn.Conv2d(1, 1, x.kernel, x.stride, x.padding, x.dilation, bias=False, dtype=torch.float64)
            nn.init.constant_(conv.weight, 0.5)
            mods.append(conv)
    return nn.Sequential(*mods)


def _support(model: nn.Module, n: int, row: int, col: int) -> tuple[int, int, int, int]:
    x = torch.zeros(1, 1, n, n, dtype=torch.float64, requires_grad=True)
    y = model(x)
    (g,) = torch.autograd.grad(y[0, 0, row, col], x)
    nz = torch.nonzero(g[0, 0])
    if not len(nz):
        return None                                   # the unit sees only padding
    return int(nz[:, 0].min()), int(nz[:, 0].max()), int(nz[:, 1].min()), int(nz[:, 1].max())


def _clipped_box(df, layer, row, col, n) -> tuple[int, int, int, int] | None:
    top, bottom, left, right = rf.field_box(df, layer, row, col)
    if bottom < 0 or right < 0 or top > n - 1 or left > n - 1:
        return None
    clip = lambda v: min(max(round(v), 0), n - 1)
    return clip(top), clip(bottom), clip(left), clip(right)


@st.composite
def chains(draw, max_layers: int = 6):
    """Random valid chains on a 40-64 pixel input (kinds, kernels, strides, padding, dilation)."""
    layers = []
    for _ in range(draw(st.integers(1, max_layers))):
        kind = draw(st.sampled_from(rf.KINDS))
        k = draw(st.integers(1, 5))
        d = 1 if kind == "avg_pool" else draw(st.integers(1, 3))
        p = draw(st.integers(0, k // 2 if kind != "conv" else 3))
        layers.append(Layer(kind, k, draw(st.integers(1, 3)), p, d))
    return layers, draw(st.integers(40, 64))


# --- the recurrence against hand-derived and published values ----------------------------------------

def test_notes_worked_example_reaches_30_through_the_notes_intermediate_values():
    df = rf.table(NOTES, 64, 3)
    assert df.rf.tolist() == [3, 4, 8, 10, 18, 26, 30]           # l_1 .. l_7 in notes 001
    assert df.jump.tolist() == [1, 2, 2, 4, 4, 4, 8]
    assert df.out_size.tolist() == [62, 31, 29, 14, 12, 10, 5]
    assert df.remainder.tolist() == [0, 0, 0, 1, 0, 0, 0]          # 29 rows into stride-2 pairs: one dropped
    assert df.dropped.tolist() == [0, 0, 0, 1, 0, 0, 0]


@pytest.mark.parametrize("name, expected", [
    ("alexnet", 195),       # Araujo et al. 2019 (Distill) / TF receptive_field table: alexnet_v2 195
    ("vgg16", 212),         # ibid.: vgg_16 212 (up to pool5)
    ("resnet50", 427),      # main path, stride on the 3x3 conv (torchvision v1.5), as in the brief's reference
    ("mobilenet_v1", 315),  # TF receptive_field table: mobilenet_v1 315
    ("lenet5", 32),         # hand-derived: 5 + 1*1 + 4*2 + 1*2 + 4*4 = 32, C5 sees the whole 32x32 digit
    ("resnet18", 435),      # hand-derived: 11 + 4*8 + 8 + 3*16 + 16 + 3*32 + 32 + 3*64
    ("dilated", 127),       # 1 + 2 * (1 + 2 + 4 + 8 + 16 + 32)
    ("notes7", 30),
])
def test_famous_networks_have_their_published_receptive_fields(name, expected):
    net = zoo.NETWORKS[name]
    df = rf.table(zoo.network_layers(name), net.input_size, net.in_channels)
    assert df.rf.iloc[-1] == expected


def test_famous_networks_match_published_costs():
    vgg = rf.table(zoo.network_layers("vgg16"), 224, 3)
    assert vgg.params.sum() == 14_714_688                       # VGG-16 conv weights + biases
    assert abs(vgg.macs.sum() / 1e9 - 15.35) < 0.01              # ~15.5 GMACs with the FC layers
    mobile = rf.table(zoo.network_layers("mobilenet_v1"), 224, 3)
    assert abs(mobile.macs.sum() / 1e6 - 568) < 1                # Howard et al. 2017: 569M mult-adds incl. FC (1M)
    assert mobile.out_size.iloc[-1] == 7 and mobile.c_out.iloc[-1] == 1024


def test_dilation_spans_d_times_k_minus_1_plus_1():
    for k in range(1, 8):
        for d in range(1, 6):
            assert Layer("conv", k, dilation=d).k_eff == d * (k - 1) + 1
    df = rf.table([Layer("conv", 3, dilation=d, padding=d) for d in (1, 2, 4, 8)], 64, 1)
    assert df.rf.tolist() == [3, 7, 15, 31] and df.out_size.tolist() == [64] * 4


def test_preset_notes_state_true_numbers():
    two = rf.table(rf.parse_spec("c3p1x64,c3p1x64"), 32, 64)
    one = rf.table(rf.parse_spec("c5p2x64"), 32, 64)
    assert two.rf.iloc[-1] == one.rf.iloc[-1] == 5
    assert two.params.sum() == 73_856 and one.params.sum() == 102_464
    assert round(100 * (1 - 73_856 / 102_464)) == 28
    early = rf.table(rf.parse_spec("c3s2p1x32,c3p1x32,c3p1x32,c3p1x32"), 64, 3)
    plain = rf.table(rf.parse_spec("c3p1x32,c3p1x32,c3p1x32,c3p1x32"), 64, 3)
    assert early.rf.iloc[-1] == 15 and plain.rf.iloc[-1] == 9
    dil = rf.table(zoo.network_layers("dilated"), 128, 3)
    undilated = rf.table([Layer("conv", 3, padding=1, channels=x.channels) for x in zoo.network_layers("dilated")],
                         128, 3)
    assert dil.rf.iloc[-1] == 127 and undilated.rf.iloc[-1] == 13 and dil.params.sum() == undilated.params.sum()
    mix = rf.table(rf.parse_spec("c3p1x32,m2s2,c3p1x32,c3s2p1x32,c3p1x32"), 32, 3)
    assert mix.rf.tolist() == [3, 4, 8, 12, 20] and mix.jump.tolist() == [1, 2, 2, 4, 4]
    assert mix.params.iloc[3] == 9_248 and mix.params.iloc[1] == 0


# --- against the real torch.nn layers -------------------------------------------------------------------

@settings(max_examples=40, deadline=None, derandomize=True)
@given(chains())
def test_output_sizes_match_running_the_real_torch_layers(case):
    layers, n = case
    df, err = rf.partial_table(layers, n, 2)
    model = rf.to_module(layers[:len(df)], 2)
    h = torch.zeros(1, 2, n, n)
    for size, mod in zip(df.out_size, model):
        h = mod(h)
        assert h.shape[-1] == h.shape[-2] == size
    if err is not None:                                         # torch must refuse the layer we refuse
        assert err.code == "empty"
        with pytest.raises(RuntimeError):
            rf.to_module(layers[:len(df) + 1], 2)[-1](h)


def test_params_and_macs_match_torch_parameter_counts_and_hooked_multiply_adds():
    layers = rf.parse_spec("c3p1x8,c3s2p1x16g2,m2s2,c1x32n,c3p2d2x32g32,a3s1p1,c5s2x4")
    df = rf.table(layers, 33, 4)
    model = rf.to_module(layers, 4)
    macs = []

    def count(mod, inp, out):
        macs.append(out.numel() * mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
                    if isinstance(mod, nn.Conv2d) else 0)
    for mod in model:
        mod.register_forward_hook(count)
    model(torch.zeros(1, 4, 33, 33))
    assert df.params.tolist() == [sum(p.numel() for p in m.parameters()) for m in model]
    assert df.macs.tolist() == macs
    check = rf.torch_check(layers, 33, 4)
    assert list(check.out_sizes) == df.out_size.tolist() and list(check.params) == df.params.tolist()


@pytest.mark.parametrize("k, p, d", [(k, p, d) for k in (1, 2, 3, 4, 5) for p in range(4) for d in (1, 2)])
def test_pool_validation_refuses_exactly_what_torch_refuses(k, p, d):
    for kind, mod in (("max_pool", lambda: nn.MaxPool2d(k, 1, p, d)), ("avg_pool", lambda: nn.AvgPool2d(k, 1, p))):
        layer = Layer(kind, k, 1, p, d if kind == "max_pool" else 1)
        try:
            mod()(torch.zeros(1, 1, 16, 16))
            torch_ok = True
        except RuntimeError:
            torch_ok = False
        try:
            rf.check_layer(layer, 0, 16, 1)
            ours_ok = True
        except rf.LayerError:
            ours_ok = False
        assert ours_ok == torch_ok, (kind, k, p, d)


def test_resnet_walk_follows_the_forward_order_of_the_main_path():
    """Hook every main-path conv of a real ResNet-18 forward pass: same names, same order, same sizes."""
    layers = zoo.network_layers("resnet18")
    assert len(layers) == 18 and not any("downsample" in x.name for x in layers)
    with torch.device("cpu"):
        model = zoo.resnet18().eval()
    seen = []
    for name, mod in model.named_modules():
        if isinstance(mod, (nn.Conv2d, nn.MaxPool2d)) and "downsample" not in name:
            mod.register_forward_hook(lambda m, i, o, name=name: seen.append((name, o.shape[-1])))
    with torch.inference_mode():
        model(torch.zeros(1, 3, 64, 64))
    df = rf.table(layers, 64, 3)
    assert seen == list(zip(df.name, df.out_size))


def test_walk_rejects_rectangular_kernels_and_ceil_mode():
    with pytest.raises(ValueError, match="rectangular"):
        zoo.layers_from_module(nn.Sequential(nn.Conv2d(1, 1, (1, 7))))
    with pytest.raises(ValueError, match="ceil_mode"):
        zoo.layers_from_module(nn.Sequential(nn.MaxPool2d(3, 2, ceil_mode=True)))


# --- which pixels reach a unit: autograd on an independent model -----------------------------------------

@settings(max_examples=30, deadline=None, derandomize=True)
@given(chains(max_layers=5), st.integers(0, 10**6))
def test_field_box_equals_the_nonzero_gradient_of_an_independent_torch_model(case, pick):
    layers, n = case
    df, _ = rf.partial_table(layers, n, 1)
    if not len(df):
        return
    layers = layers[:len(df)]
    model = _torch_chain(layers, pick)
    out = int(df.out_size.iloc[-1])
    for row, col in {(0, 0), (out - 1, out - 1), (out // 2, (pick % out)), ((pick // 7) % out, 0)}:
        measured = _support(model, n, row, col)
        assert rf.support(rf.unit_gradient(layers, n, row, col)) == measured
        assert rf.exact_field(df, len(df), row, col) == measured
        box = _clipped_box(df, len(df), row, col, n)      # the recurrence's square, clipped to the image
        if measured is not None:
            assert box[0] <= measured[0] <= measured[1] <= box[1] and box[2] <= measured[2] <= measured[3] <= box[3]
        top, bottom, left, right = rf.field_box(df, len(df), row, col)
        if top >= 0 and left >= 0 and bottom <= n - 1 and right <= n - 1:   # inside the image: exactly the square
            assert measured == (round(top), round(bottom), round(left), round(right))


def test_unit_field_of_the_notes_example_is_30_pixels_and_its_start_is_14_5():
    df = rf.table(NOTES, 64, 1)
    assert df.start.iloc[-1] == 14.5                               # centre of unit 0: pixels 0..29
    g = rf.unit_gradient(NOTES, 64, 2, 2)
    rows = torch.nonzero(g.sum(1)).flatten()
    assert rows.min() == 16 and rows.max() == 45 and rows.numel() == 30


def test_max_pool_gradient_of_a_real_model_stays_inside_the_field():
    layers = rf.parse_spec("c3,m3s2p1,c3p1,m2s2")
    n = 40
    df = rf.table(layers, n, 1)
    torch.manual_seed(0)
    model = rf.to_module(layers, 1).double()
    top, bottom, left, right = _clipped_box(df, len(df), 3, 4, n)
    x = torch.randn(1, 1, n, n, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(model(x)[0, 0, 3, 4], x)
    mask = torch.zeros(n, n, dtype=torch.bool)
    mask[top:bottom + 1, left:right + 1] = True
    assert g[0, 0][~mask].abs().max() == 0 and g[0, 0][mask].abs().max() > 0


def test_unseen_edge_pixels_get_no_gradient_from_any_unit():
    for spec, n in (("c3,m2s2,c3,m2s2,c3,c3,m2s2", 64), ("c7s2p3,m3s2p1,c3s2", 50), ("c3s3", 11)):
        layers = rf.parse_spec(spec)
        df = rf.table(layers, n, 1)
        x = torch.zeros(1, 1, n, n, dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(_torch_chain(layers)(x).sum(), x)
        cols = torch.nonzero(g[0, 0].sum(0)).flatten()
        assert n - 1 - int(cols.max()) == df.unseen.iloc[-1], spec
    assert rf.table(NOTES, 64, 1).unseen.iloc[-1] == 2


# --- bad input --------------------------------------------------------------------------------------------

def test_empty_output_raises_value_error_naming_the_layer():
    layers = [Layer("conv", 3), Layer("conv", 7, dilation=2), Layer("conv", 3)]
    with pytest.raises(ValueError, match="layer 2") as info:
        rf.table(layers, 12, 1)
    assert isinstance(info.value, rf.LayerError) and info.value.code == "empty" and info.value.index == 1
    df, err = rf.partial_table(layers, 12, 1)
    assert len(df) == 1 and err.values == {"k_eff": 13, "padded": 10}


def test_table_checks_kind_ranges_groups_and_the_layer_cap():
    cases = [(Layer("dense", 3), "kind"), (Layer("conv", 0), "range"), (Layer("conv", 3, stride=0), "range"),
             (Layer("conv", 3, padding=-1), "range"), (Layer("conv", 3, dilation=999), "range"),
             (Layer("conv", 3, channels=6, groups=4), "groups"), (Layer("avg_pool", 3, dilation=2), "avg_dilation"),
             (Layer("max_pool", 2, padding=2), "pool_padding"), (Layer("conv", 2.5), "range")]
    for layer, code in cases:
        df, err = rf.partial_table([Layer("conv", 1), layer], 16, 4)
        assert len(df) == 1 and err.code == code and err.index == 1, layer
    df, err = rf.partial_table([Layer("conv", 1)] * (rf.MAX_LAYERS + 1), 16, 1)
    assert err.code == "too_many" and len(df) == 0
    with pytest.raises(ValueError, match="Invalid input size"):
        rf.table([Layer("conv", 1)], rf.MAX_INPUT + 1)


def test_parse_frame_points_at_the_first_bad_row_and_keeps_the_rows_before_it():
    frame = rf.to_frame(NOTES)
    frame["kernel"] = frame["kernel"].astype(object)
    frame.loc[4, "kernel"] = "abc"
    parsed = rf.parse_frame(frame)
    assert len(parsed.layers) == 4 and parsed.error.code == "not_integer" and parsed.error.index == 4
    for value, code in ((2.5, "not_integer"), (0, "range"), (-3, "range"), (None, "blank"), (1e12, "range"),
                        (" 99", "range"), ("x", "not_integer")):
        f = rf.to_frame(NOTES)
        f["kernel"] = f["kernel"].astype(object)
        f.loc[1, "kernel"] = value
        assert rf.parse_frame(f).error.code == code, value
    f = rf.to_frame(NOTES)
    f["kind"] = f["kind"].astype(object)
    f.loc[0, "kind"] = "<script>"
    assert rf.parse_frame(f).error.code == "kind" and rf.parse_frame(f).layers == ()
    many = rf.to_frame([Layer("conv", 1)] * (rf.MAX_LAYERS + 3))
    p = rf.parse_frame(many)
    assert p.error.code == "too_many" and len(p.layers) == rf.MAX_LAYERS


def test_parse_frame_skips_empty_rows_reorders_by_order_and_defaults_blank_cells():
    f = rf.to_frame(NOTES)
    blank = pd.DataFrame([{c: None for c in rf.FRAME_COLUMNS}])
    f = pd.concat([f, blank], ignore_index=True)
    f.loc[6, "order"] = 0.5                           # move the last pool to the front
    f.loc[2, "stride"] = None                         # a blank stride means 1
    parsed = rf.parse_frame(f)
    assert parsed.error is None and parsed.skipped == (8,) and parsed.reordered
    assert parsed.layers[0] == NOTES[6] and parsed.layers[1:] == tuple(NOTES[:6])
    assert parsed.rows == (1, 2, 3, 4, 5, 6, 7)
    assert rf.parse_frame(rf.to_frame(NOTES)).layers == tuple(NOTES)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(chains(max_layers=8),
       st.lists(st.sampled_from(["", "conv1", "layer3.2.conv2", "a-b_c"]), min_size=8, max_size=8))
def test_spec_and_frame_round_trip(case, names):
    layers, _ = case
    layers = [Layer(x.kind, x.kernel, x.stride, x.padding, x.dilation, 8 if x.kind == "conv" else None,
                    1, x.kind != "conv" or i % 2 == 0, names[i]) for i, x in enumerate(layers)]
    assert rf.parse_spec(rf.to_spec(layers)) == layers
    assert list(rf.parse_frame(rf.to_frame(layers)).layers) == layers


@pytest.mark.parametrize("junk", ["__import__('os')", "c3s", "x3", "c3,,c3", "c3@<b>", "c" + "9" * 5, "c3s2p1z4",
                                  ",".join(["c3"] * (rf.MAX_LAYERS + 1))])
def test_parse_spec_rejects_anything_else(junk):
    with pytest.raises(ValueError):
        rf.parse_spec(junk)


def test_layer_error_survives_pickling_for_the_page_cache():
    import pickle

    err = pickle.loads(pickle.dumps(rf.LayerError(2, "empty", k_eff=5, padded=4)))
    assert (err.index, err.code, err.values) == (2, "empty", {"k_eff": 5, "padded": 4})


# --- the effective receptive field ------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [1, 4, 9])
def test_all_ones_stack_profile_has_the_clt_variance_two_thirds_per_layer(depth):
    """Each 3-tap layer adds a uniform {-1, 0, 1} step (variance 2/3): the path counts are the
    distribution of their sum, so sigma = sqrt(2 L / 3) exactly (the field fits the input)."""
    layers = rf.stack(depth)
    res = rf.effective_field(layers, rf.ERFConfig(2 * depth + 1, relu=False, seeds=1))
    assert res.rf == 2 * depth + 1
    assert math.isclose(res.sigma_uniform, math.sqrt(2 * depth / 3), rel_tol=1e-9)
    assert res.uniform.max() == 1 and res.uniform[depth, depth] == 1


def test_effective_field_is_gaussian_like_and_smaller_than_the_theoretical_one():
    res = rf.effective_field(rf.stack(16), rf.ERFConfig(33, relu=True, seeds=3, seed=1))
    assert res.erf_random < res.rf and res.erf_uniform < res.rf
    assert res.random.shape == res.uniform.shape == (33, 33)
    # the random-weight map concentrates in the centre: the middle third holds most of the gradient
    mid = res.random[11:22, 11:22].sum() / res.random.sum()
    assert mid > 0.5
    growth = rf.erf_growth(16, seeds=1)
    assert growth.rf.tolist() == [2 * int(d) + 1 for d in growth.depth]
    assert (np.diff(growth.erf_uniform) >= 0).all()
    # quadrupling the depth (4 -> 16) doubles the effective width (sqrt), not quadruples it
    e = dict(zip(growth.depth.astype(int), growth.erf_uniform))
    assert 1.6 < (e[16] - 1) / (e[4] - 1) < 2.6


def test_effective_field_is_reproducible_for_a_seed_and_rejects_caps():
    a = rf.effective_field(rf.stack(3), rf.ERFConfig(7, seeds=2, seed=5))
    b = rf.effective_field(rf.stack(3), rf.ERFConfig(7, seeds=2, seed=5))
    np.testing.assert_array_equal(a.random, b.random)


@pytest.mark.parametrize("make,match", [
    (lambda: rf.ERFConfig(rf.MAX_ERF_INPUT + 1), "Invalid input size: 129"),
    (lambda: rf.ERFConfig(41, seeds=rf.MAX_ERF_SEEDS + 1), "Invalid seeds: 9"),
    (lambda: rf.stack(rf.MAX_ERF_DEPTH + 1), "Invalid depth: 21"),
    (lambda: rf.erf_growth(0), "Invalid depth: 0"),
    (lambda: rf.partial_table(rf.stack(2), rf.MAX_INPUT + 1), "Invalid input size"),
    (lambda: rf.partial_table(rf.stack(2), 32, rf.MAX_IN_CHANNELS + 1), "Invalid input channels"),
    (lambda: rf.unit_gradient(rf.stack(2), 8, 8, 0), r"Invalid unit: \(8, 0\)"),
    (lambda: rf.photo(rf.MAX_INPUT + 1), "Invalid side"),
    (lambda: zoo.network_layers("resnet1000"), "Invalid network"),
])
def test_caps_a_learner_can_reach_are_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# --- what an effective-field measurement may cost ------------------------------------------------------

def _costly(code: str, layers: list[rf.Layer], cfg: rf.ERFConfig) -> rf.ERFCostError:
    """The refusal of ``effective_field(layers, cfg)``, which must come before any computation."""
    t0 = time.process_time()
    with pytest.raises(rf.ERFCostError) as caught:
        rf.effective_field(layers, cfg)
    assert time.process_time() - t0 < 0.5                  # refused from the table alone, not after running
    assert caught.value.code == code and isinstance(caught.value, ValueError)
    return caught.value


def test_three_64_wide_kernels_on_128_pixels_with_8_seeds_are_refused_for_time():
    """Issue 30: `c64p64,c64p64,c64p64` with 8 seeds cost 104 s of CPU per rerun (PyTorch's slow path for kernels
    this wide: 2.8 s for one such layer and one seed on this machine)."""
    err = _costly("time", rf.parse_spec("c64p64,c64p64,c64p64"), rf.ERFConfig(128, relu=True, seeds=8))
    assert err.values["seconds"] > 100 and err.values["budget"] == rf.ERF_BUDGET_S and err.values["seeds"] == 8
    assert rf.erf_cost(rf.parse_spec("c64p64"), rf.ERFConfig(128, seeds=1)).seconds > rf.ERF_BUDGET_S   # even one


def test_twenty_padded_1x1_layers_are_refused_for_memory():
    """Issue 30: 20 rows of `c1p64` grow a 128-pixel input by 128 pixels a layer, to 2688 x 2688 x 8 maps, and
    autograd held 2.7 GB of them for the backward pass."""
    layers = rf.parse_spec(",".join(["c1p64"] * 20))
    err = _costly("memory", layers, rf.ERFConfig(128, relu=True, seeds=1))
    assert err.values["side"] == 128 + 20 * 128 and err.values["mb"] > 2000
    assert rf.erf_cost(layers, rf.ERFConfig(128, seeds=1)).largest_map == 4 * 8 * 2688 ** 2


def test_caps_that_depend_on_each_other_are_checked_together():
    """Each cap alone allows it; the product of kernel, input side and seeds is what costs."""
    wide = rf.parse_spec("c48p24,c48p24")
    assert rf.check_erf_cost(wide, rf.ERFConfig(128, seeds=1)).seconds < rf.ERF_BUDGET_S
    assert rf.check_erf_cost(wide, rf.ERFConfig(48, seeds=8)).seconds < rf.ERF_BUDGET_S
    _costly("time", wide, rf.ERFConfig(128, seeds=8))
    padded = rf.parse_spec(",".join(["c1p64"] * 6))
    assert rf.check_erf_cost(padded, rf.ERFConfig(64, seeds=1)).held_bytes < rf.ERF_BUDGET_BYTES
    _costly("memory", rf.parse_spec(",".join(["c1p64"] * 9)), rf.ERFConfig(128, seeds=1))


def test_every_stack_and_bundled_network_the_lesson_offers_fits_the_budget():
    for depth in range(1, rf.MAX_ERF_DEPTH + 1):
        for pool_every in (0, rf.ERF_POOL_EVERY):
            layers = rf.stack(depth, pool_every=pool_every)
            rf.check_erf_cost(layers, rf.ERFConfig(rf.erf_input(layers), seeds=rf.MAX_ERF_SEEDS))
    for name, net in zoo.NETWORKS.items():
        layers = zoo.network_layers(name)
        n = rf.erf_input(layers, net.input_size)
        layers = layers[:len(rf.partial_table(layers, n, 1)[0])]    # the table tab measures the layers that fit
        rf.check_erf_cost(layers, rf.ERFConfig(n, seeds=rf.MAX_ERF_SEEDS))


def test_the_cost_model_counts_the_tables_multiply_adds_of_the_wide_network():
    layers = rf.parse_spec("c5p2x64,m2s2,c3p1x3")
    cost = rf.erf_cost(layers, rf.ERFConfig(32, relu=False, seeds=3))
    wide = [nn.Conv2d(1, rf.ERF_WIDTH, 5, padding=2), nn.MaxPool2d(2, 2), nn.Conv2d(rf.ERF_WIDTH, rf.ERF_WIDTH, 3,
                                                                                     padding=1)]
    macs, x = 0, torch.zeros(1, 1, 32, 32)
    for m in wide:
        y = m(x)
        if isinstance(m, nn.Conv2d):
            macs += y.numel() * m.in_channels * m.kernel_size[0] * m.kernel_size[1]
        x = y
    assert cost.macs == macs
    assert cost.largest_map == 4 * rf.ERF_WIDTH * 32 * 32


@pytest.mark.parametrize(("depth", "pool", "relu"), [(5, 0, True), (6, 2, False)])
def test_effective_field_matches_fresh_torch_networks_built_under_each_seed(depth, pool, relu):
    """The textbook computation: for every seed a new nn.Conv2d stack (PyTorch's default init under
    torch.manual_seed), |d sum_c y_c(centre) / dx| averaged over seeds, scaled to max 1."""
    layers = rf.stack(depth, pool_every=pool)
    n = int(rf.table(layers, rf.MAX_INPUT, 1).rf.iloc[-1])
    cfg = rf.ERFConfig(n, relu=relu, seeds=3, seed=4)
    res = rf.effective_field(layers, cfg)
    acc = torch.zeros(n, n, dtype=torch.float64)
    for k in range(cfg.seeds):
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed * 1000 + k)
            mods, c = [], 1
            for x in layers:
                if x.kind == "conv":
                    mods += [nn.Conv2d(c, rf.ERF_WIDTH, x.kernel, x.stride, x.padding)] + ([nn.ReLU()] if relu else [])
                    c = rf.ERF_WIDTH
                else:
                    mods.append(nn.MaxPool2d(x.kernel, x.stride))
            net = nn.Sequential(*mods)
        inp = torch.randn(1, 1, n, n, generator=torch.Generator().manual_seed(cfg.seed * 1000 + k)).requires_grad_(True)
        y = net(inp)
        centre = y.shape[-1] // 2
        (g,) = torch.autograd.grad(y[0, :, centre, centre].sum(), inp)
        acc += g[0, 0].abs().double()
    ref = (acc / acc.max()).numpy()
    np.testing.assert_allclose(res.random, ref, rtol=1e-5, atol=1e-6)


def test_mass_side_of_a_point_and_of_a_flat_square():
    z = np.zeros((9, 9))
    z[4, 4] = 1
    assert rf.mass_side(z, 4, 4) == 1
    z[:] = 1
    assert rf.mass_side(z, 4, 4, mass=1.0) == 9


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_unit_gradient_and_effective_field_agree_on_cuda():
    np.testing.assert_allclose(rf.unit_gradient(NOTES, 64, 1, 2, device="cuda").numpy(),
                               rf.unit_gradient(NOTES, 64, 1, 2).numpy())
    res = rf.effective_field(rf.stack(4), rf.ERFConfig(9, seeds=2), device="cuda")
    assert res.random.shape == (9, 9)


def test_photo_is_a_square_uint8_picture():
    img = rf.photo(48, "flower")
    assert img.shape == (48, 48, 3) and img.dtype == np.uint8 and img.std() > 10


def test_separable_unit_gradient_equals_the_2d_all_ones_network():
    """unit_gradient's 1D x 1D outer product equals autograd through the 2D twin (ones kernels, average pools)."""
    layers = rf.parse_spec("c3p1,m3s2p1,c3d2p2,a2s2,c5s2p2")
    n = 37
    mods = []
    for x in layers:
        conv = nn.Conv2d(1, 1, x.kernel, x.stride, x.padding, x.dilation, bias=False, dtype=torch.float64)
        nn.init.constant_(conv.weight, 1.0 if x.kind == "conv" else 1.0 / x.kernel**2)
        mods.append(conv)
    model = nn.Sequential(*mods)
    for row, col in ((0, 0), (2, 3), (4, 1)):
        x = torch.zeros(1, 1, n, n, dtype=torch.float64, requires_grad=True)
        (g,) = torch.autograd.grad(model(x)[0, 0, row, col], x)
        torch.testing.assert_close(rf.unit_gradient(layers, n, row, col), g[0, 0], rtol=1e-12, atol=0)
