r"""Receptive field, jump, start and output size of a chain of convolution and pooling layers
(course notes 001, "卷积的感受野计算"; Araujo, Norris & Sim 2019, "Computing Receptive Fields of
Convolutional Neural Networks", Distill), checked against the real ``torch.nn`` layers, and the
*effective* receptive field of a randomly initialised network (Luo, Li, Urtasun & Zemel 2016,
"Understanding the Effective Receptive Field in Deep Convolutional Neural Networks").

For layer $l$ with kernel $k_l$, stride $s_l$, padding $p_l$ and dilation $d_l$:

$$k'_l = d_l(k_l - 1) + 1,\quad n_l = \lfloor (n_{l-1} + 2p_l - k'_l) / s_l \rfloor + 1,$$
$$r_l = r_{l-1} + (k'_l - 1)\,j_{l-1},\quad j_l = j_{l-1} s_l,\quad
  \text{start}_l = \text{start}_{l-1} + \big(\tfrac{k'_l - 1}{2} - p_l\big) j_{l-1},$$

with $r_0 = 1$, $j_0 = 1$, $\text{start}_0 = 0$ (the centre of input pixel 0). Unit $i$ of layer
$l$ sees the input pixels $\text{start}_l + i j_l \pm (r_l - 1)/2$. Square inputs and kernels:
every quantity is the same along both axes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from dlcore.data import sample_image
from dlcore.device import generator, seeded

KINDS = ("conv", "max_pool", "avg_pool")
MAX_LAYERS = 100        # rows of the table (the bench times a table at this cap)
MAX_INPUT = 1024        # input side in pixels
MAX_IN_CHANNELS = 64
MAX_KERNEL = 64
MAX_STRIDE = 16
MAX_PADDING = 64
MAX_DILATION = 128      # a dilated stack 1, 2, ..., 128 still fits
MAX_CHANNELS = 4096
MAX_NAME = 24
MAX_ERF_INPUT = 128     # effective-field maps are measured on at most 128 x 128 pixels
MAX_ERF_DEPTH = 20
MAX_ERF_SEEDS = 8
ERF_WIDTH = 8           # channels of every conv in an effective-field network (its shape barely depends on it)
ERF_MASS = 0.95         # the effective field is the smallest centred square holding this share of |gradient|
ERF_POOL_EVERY = 4      # the effective-field stack's "max pool after every 4 convs" switch
# The cost of one effective-field measurement, estimated before it runs (see erf_cost), and its budget. The rates
# are this course's CPU (one thread, PyTorch 2.13) measured on whole measurements (forward and input-gradient
# passes, per forward multiply-add): kernels up to 48 taps wide ran at 7-13 GMAC/s (4 is the cautious end), wider
# ones take PyTorch's slow path at 0.34 GMAC/s, a layer costs about a millisecond however small it is, and large
# maps cost their size too (padding, ReLU, gradients: 0.42 s for the 284 MB of eight 1 x 1 convs padded by 64).
ERF_FAST_MACS_PER_S = 4e9
ERF_SLOW_MACS_PER_S = 0.3e9
ERF_SLOW_KERNEL = 49    # kernels this wide (or wider) take the slow path
ERF_LAYER_S = 1e-3
ERF_BYTE_S = 1.5e-9     # seconds per byte held for the backward pass
ERF_BUDGET_S = 2.0      # CPU seconds one measurement may cost (all seeds)
ERF_BUDGET_BYTES = 200 * 2**20   # memory autograd may hold for one seed's backward pass
_LETTER = {"conv": "c", "max_pool": "m", "avg_pool": "a"}
_KIND = {v: k for k, v in _LETTER.items()}
_NAME_OK = re.compile(r"^[A-Za-z0-9_.\-]*$")
_TOKEN = re.compile(r"^([cma])(\d{1,3})((?:[spdxg]\d{1,4})*)(n?)(?:@([A-Za-z0-9_.\-]{1,24}))?$")


@dataclass(frozen=True)
class Layer:
    """One convolution or pooling layer (square kernel). Pools keep the channel count."""
    kind: str                   # "conv", "max_pool" or "avg_pool"
    kernel: int                 # k
    stride: int = 1             # s
    padding: int = 0            # p (zeros on every side)
    dilation: int = 1           # d (holes between kernel taps)
    channels: int | None = None  # output channels of a conv; None keeps the input's
    groups: int = 1             # conv groups: channels for a depthwise conv (MobileNet)
    bias: bool = True
    name: str = ""

    @property
    def k_eff(self) -> int:
        """The dilated kernel's extent k' = d(k - 1) + 1."""
        return self.dilation * (self.kernel - 1) + 1


class LayerError(ValueError):
    """A layer that cannot be computed; ``code`` names the problem, ``index`` the layer (0-based).

    The page turns ``code`` and ``values`` into a translated message pointing at the row.
    """

    def __init__(self, index: int, code: str, **values: int | str) -> None:
        self.index, self.code, self.values = index, code, values
        detail = ", ".join(f"{k}={v}" for k, v in values.items())
        super().__init__(f"layer {index + 1}: {code} ({detail})")

    def __reduce__(self):  # picklable (results are cached), although __init__ takes keywords
        return _layer_error, (self.index, self.code, self.values)


def _layer_error(index: int, code: str, values: dict) -> LayerError:
    return LayerError(index, code, **values)


def check_layer(layer: Layer, index: int, n_in: int, c_in: int) -> None:
    """Raise :class:`LayerError` when ``layer`` cannot run on an ``n_in`` x ``n_in`` x ``c_in`` input.

    Mirrors what ``torch.nn`` refuses: pool padding above half the kernel, average-pool dilation,
    groups that do not divide the channels, and a dilated kernel larger than the padded input.
    """
    def bad(field: str, value: object, lo: int, hi: int) -> bool:
        return not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not lo <= value <= hi

    if layer.kind not in KINDS:
        raise LayerError(index, "kind", value=str(layer.kind)[:20])
    for field, lo, hi in (("kernel", 1, MAX_KERNEL), ("stride", 1, MAX_STRIDE), ("padding", 0, MAX_PADDING),
                          ("dilation", 1, MAX_DILATION), ("groups", 1, MAX_CHANNELS)):
        if bad(field, getattr(layer, field), lo, hi):
            raise LayerError(index, "range", field=field, value=str(getattr(layer, field)), lo=lo, hi=hi)
    if layer.channels is not None and bad("channels", layer.channels, 1, MAX_CHANNELS):
        raise LayerError(index, "range", field="channels", value=str(layer.channels), lo=1, hi=MAX_CHANNELS)
    if layer.kind != "conv":
        if layer.kind == "avg_pool" and layer.dilation != 1:
            raise LayerError(index, "avg_dilation", d=layer.dilation)
        if 2 * layer.padding > layer.kernel:
            raise LayerError(index, "pool_padding", p=layer.padding, k=layer.kernel, most=layer.kernel // 2)
    else:
        c_out = layer.channels or c_in
        if c_in % layer.groups or c_out % layer.groups:
            raise LayerError(index, "groups", g=layer.groups, c_in=c_in, c_out=c_out)
    if layer.k_eff > n_in + 2 * layer.padding:
        raise LayerError(index, "empty", k_eff=layer.k_eff, padded=n_in + 2 * layer.padding)


COLUMNS = ("name", "kind", "kernel", "stride", "padding", "dilation", "k_eff", "in_size", "out_size", "remainder",
           "dropped", "unseen", "rf", "jump", "start", "c_in", "c_out", "params", "macs")


def partial_table(layers: Sequence[Layer], input_size: int, in_channels: int = 3
                  ) -> tuple[pd.DataFrame, LayerError | None]:
    r"""The rows of :func:`table` up to the first layer that cannot be computed, and that layer's error.

    Per layer (see the module docstring for $n_l, r_l, j_l, \text{start}_l$):
    remainder $= (n_{l-1} + 2p - k') \bmod s$ (the division is exact when 0);
    dropped = real input pixels of this layer that no window covers, $\max(0, \text{remainder} - p)$;
    unseen = image pixels at the right/bottom edge outside every unit's field;
    params $= k^2 c_{in} c_{out} / g$ (+ $c_{out}$ bias); macs $= n_l^2 c_{out} k^2 c_{in} / g$ (pools: 0).
    """
    if not 1 <= input_size <= MAX_INPUT:
        raise ValueError(f"Invalid input size: {input_size} (allowed 1..{MAX_INPUT})")
    if not 1 <= in_channels <= MAX_IN_CHANNELS:
        raise ValueError(f"Invalid input channels: {in_channels} (allowed 1..{MAX_IN_CHANNELS})")
    if len(layers) > MAX_LAYERS:
        return pd.DataFrame(columns=COLUMNS), LayerError(MAX_LAYERS, "too_many", cap=MAX_LAYERS)
    rows = []
    n, c, r, j, start = input_size, in_channels, 1, 1, 0.0
    for i, layer in enumerate(layers):
        try:
            check_layer(layer, i, n, c)
        except LayerError as e:
            return pd.DataFrame(rows, columns=COLUMNS), e
        k, s, p = layer.kernel, layer.stride, layer.padding
        ke = layer.k_eff
        n_out = (n + 2 * p - ke) // s + 1
        remainder = (n + 2 * p - ke) % s
        start = start + ((ke - 1) / 2 - p) * j       # centre of unit 0's field
        r = r + (ke - 1) * j                          # r_l = r_{l-1} + (k' - 1) j_{l-1}
        j = j * s                                     # j_l = j_{l-1} s_l
        last_seen = start + (n_out - 1) * j + (r - 1) / 2
        unseen = max(0, math.ceil(input_size - 1 - last_seen))
        if layer.kind == "conv":
            c_out = layer.channels or c
            params = k * k * (c // layer.groups) * c_out + (c_out if layer.bias else 0)
            macs = n_out * n_out * c_out * k * k * (c // layer.groups)
        else:
            c_out, params, macs = c, 0, 0
        rows.append((layer.name or f"{layer.kind}{i + 1}", layer.kind, k, s, p, layer.dilation, ke, n, n_out,
                     remainder, max(0, remainder - p), unseen, r, j, start, c, c_out, params, macs))
        n, c = n_out, c_out
    return pd.DataFrame(rows, columns=COLUMNS), None


def table(layers: Sequence[Layer], input_size: int, in_channels: int = 3) -> pd.DataFrame:
    """One row per layer: out_size, rf, jump, start, params, macs and the rest of :data:`COLUMNS`.

    Raises :class:`LayerError` (a ``ValueError``) naming the first layer whose output would be
    empty or whose settings ``torch.nn`` would refuse.
    """
    df, error = partial_table(layers, input_size, in_channels)
    if error is not None:
        raise error
    return df


def field_box(df: pd.DataFrame, layer: int, row: int, col: int) -> tuple[float, float, float, float]:
    """(top, bottom, left, right) input-pixel indices of the field of unit (row, col) of ``layer`` (1-based).

    May reach past the image into the padding (negative or >= input size).
    """
    rec = df.iloc[layer - 1]
    half = (rec.rf - 1) / 2
    cy, cx = rec.start + row * rec.jump, rec.start + col * rec.jump
    return cy - half, cy + half, cx - half, cx + half


def exact_field(df: pd.DataFrame, layer: int, row: int, col: int) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right): bounding box of the image pixels that really reach unit
    (row, col) of ``layer`` (1-based).

    Walks back one layer at a time along each axis: unit q reads inputs q s - p + t d (t = 0..k-1)
    of the layer below, and only those inside it are real (the rest are zero padding, which has no
    field of its own; dilation holes are skipped). Equals :func:`field_box` clipped to the image
    unless a *deeper* layer's padding cuts the field of a border unit. None when only padding is read.
    """
    spans = []
    for a in (row, col):
        pos = np.array([a])
        for i in range(layer - 1, -1, -1):
            rec = df.iloc[i]
            taps = np.arange(rec.kernel) * rec.dilation
            pos = np.unique((pos[:, None] * rec.stride - rec.padding + taps[None, :]).ravel())
            pos = pos[(pos >= 0) & (pos < rec.in_size)]
            if not len(pos):
                return None
        spans.append((int(pos.min()), int(pos.max())))
    return spans[0][0], spans[0][1], spans[1][0], spans[1][1]


# --- the table as text (URL) and as an editable frame ---------------------------------------------

def to_spec(layers: Sequence[Layer]) -> str:
    """Compact text of a layer chain, e.g. ``"c7s2p3x64n@conv1,m3s2p1"`` (kind letter, kernel, then
    s stride, p padding, d dilation, x channels, g groups, n for no bias, @name; defaults left out)."""
    out = []
    for layer in layers:
        tok = f"{_LETTER[layer.kind]}{layer.kernel}"
        for letter, value, default in (("s", layer.stride, 1), ("p", layer.padding, 0), ("d", layer.dilation, 1),
                                       ("x", layer.channels, None), ("g", layer.groups, 1)):
            if value != default:
                tok += f"{letter}{value}"
        if not layer.bias and layer.kind == "conv":
            tok += "n"
        if layer.name:
            tok += f"@{layer.name}"
        out.append(tok)
    return ",".join(out)


def parse_spec(text: str) -> list[Layer]:
    """The layers of :func:`to_spec` text; ``ValueError`` for anything else (never evaluated)."""
    text = text.strip()
    if not text:
        return []
    tokens = text.split(",")
    if len(tokens) > MAX_LAYERS:
        raise ValueError(f"more than {MAX_LAYERS} layers")
    layers = []
    for tok in tokens:
        m = _TOKEN.match(tok.strip())
        if not m:
            raise ValueError(f"bad layer {tok[:20]!r}")
        letter, kernel, opts, no_bias, name = m.groups()
        values = {"s": 1, "p": 0, "d": 1, "x": None, "g": 1}
        for key, num in re.findall(r"([spdxg])(\d+)", opts):
            values[key] = int(num)
        layers.append(Layer(_KIND[letter], int(kernel), values["s"], values["p"], values["d"], values["x"],
                            values["g"], not no_bias, name or ""))
    return layers


def is_spec(text: str) -> bool:
    """Whether ``text`` is valid :func:`to_spec` text (for checking a URL value)."""
    try:
        parse_spec(text)
    except ValueError:
        return False
    return True


FRAME_COLUMNS = ("order", "name", "kind", "kernel", "stride", "padding", "dilation", "channels", "groups", "bias")


def to_frame(layers: Sequence[Layer]) -> pd.DataFrame:
    """The editable table: one row per layer, ``order`` 1..L (type 2.5 to move a row between 2 and 3)."""
    rows = [(float(i + 1), x.name, x.kind, x.kernel, x.stride, x.padding, x.dilation,
             x.channels if x.kind == "conv" else None, x.groups, x.bias if x.kind == "conv" else None)
            for i, x in enumerate(layers)]
    df = pd.DataFrame(rows, columns=FRAME_COLUMNS)
    for col in ("kernel", "stride", "padding", "dilation", "channels", "groups"):
        df[col] = df[col].astype("Int64")
    return df.astype({"order": "float64", "name": "string", "kind": "string", "bias": "boolean"})


@dataclass(frozen=True)
class Parsed:
    layers: tuple[Layer, ...]
    rows: tuple[int, ...]        # 1-based table row of each layer (after sorting by ``order``)
    error: LayerError | None     # the first bad row (index = its 1-based row number - 1)
    skipped: tuple[int, ...]     # 1-based rows left completely empty
    reordered: bool              # ``order`` moved a row


def _integer(value: object) -> int | None:
    """An int from a cell (int, integral float, or digits), else None."""
    if value is None or value is pd.NA or isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"[+-]?\d{1,9}(\.0*)?", value):
            return None
        return int(float(value))
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return int(f) if math.isfinite(f) and f.is_integer() else None


def _blank(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or \
        (isinstance(value, str) and not value.strip())


def parse_frame(df: pd.DataFrame) -> Parsed:
    """Layers from the edited table, sorted by ``order``; stops at the first bad row.

    Checks the type and range of every cell (kernel 1..MAX_KERNEL, ...) and the row cap; what
    depends on the input size (an empty output) is left to :func:`partial_table`.
    """
    records = df.to_dict("records")
    keyed = []
    for pos, rec in enumerate(records):
        order = rec.get("order")
        try:
            key = float(order) if not _blank(order) else math.inf
        except (TypeError, ValueError):
            key = math.inf
        keyed.append((key if math.isfinite(key) else math.inf, pos, rec))
    keyed.sort(key=lambda t: (t[0], t[1]))
    reordered = [pos for _, pos, _ in keyed] != list(range(len(records)))
    layers, rows, skipped = [], [], []
    for row, (_, _, rec) in enumerate(keyed, start=1):
        cells = [rec.get(c) for c in FRAME_COLUMNS if c not in ("order", "bias", "name")]
        if all(_blank(v) for v in cells):
            skipped.append(row)
            continue
        if len(layers) == MAX_LAYERS:
            return Parsed(tuple(layers), tuple(rows), LayerError(row - 1, "too_many", cap=MAX_LAYERS),
                          tuple(skipped), reordered)
        kind = rec.get("kind")
        if kind not in KINDS:
            return Parsed(tuple(layers), tuple(rows), LayerError(row - 1, "kind", value=str(kind)[:20]),
                          tuple(skipped), reordered)
        values = {}
        for field, default, lo, hi in (("kernel", None, 1, MAX_KERNEL), ("stride", 1, 1, MAX_STRIDE),
                                       ("padding", 0, 0, MAX_PADDING), ("dilation", 1, 1, MAX_DILATION),
                                       ("groups", 1, 1, MAX_CHANNELS), ("channels", None, 1, MAX_CHANNELS)):
            raw = rec.get(field)
            if _blank(raw) and (default is not None or field == "channels"):
                values[field] = default
                continue
            if _blank(raw):
                return Parsed(tuple(layers), tuple(rows), LayerError(row - 1, "blank", field=field),
                              tuple(skipped), reordered)
            v = _integer(raw)
            if v is None:
                return Parsed(tuple(layers), tuple(rows),
                              LayerError(row - 1, "not_integer", field=field, value=str(raw)[:12]),
                              tuple(skipped), reordered)
            if not lo <= v <= hi:
                return Parsed(tuple(layers), tuple(rows),
                              LayerError(row - 1, "range", field=field, value=str(v), lo=lo, hi=hi),
                              tuple(skipped), reordered)
            values[field] = v
        name = "" if _blank(rec.get("name")) else str(rec.get("name")).strip()[:MAX_NAME]
        name = name if _NAME_OK.match(name) else re.sub(r"[^A-Za-z0-9_.\-]", "_", name)
        bias = rec.get("bias")
        layers.append(Layer(kind, values["kernel"], values["stride"], values["padding"], values["dilation"],
                            values["channels"] if kind == "conv" else None,
                            values["groups"] if kind == "conv" else 1,
                            True if _blank(bias) else bool(bias), name))
        rows.append(row)
    return Parsed(tuple(layers), tuple(rows), None, tuple(skipped), reordered)


# --- the real torch.nn model of a table -----------------------------------------------------------

def to_module(layers: Sequence[Layer], in_channels: int = 3, *, relu: bool = False,
              device: torch.device | str = "cpu") -> nn.Sequential:
    """The ``torch.nn`` layers of the table, in order (``relu`` adds an ``nn.ReLU`` after each conv).

    ``device="meta"`` builds it without allocating weights (shape and parameter checks).
    """
    mods: list[nn.Module] = []
    c = in_channels
    for x in layers:
        if x.kind == "conv":
            c_out = x.channels or c
            mods.append(nn.Conv2d(c, c_out, x.kernel, x.stride, x.padding, x.dilation, x.groups, x.bias,
                                  device=device))
            if relu:
                mods.append(nn.ReLU())
            c = c_out
        elif x.kind == "max_pool":
            mods.append(nn.MaxPool2d(x.kernel, x.stride, x.padding, x.dilation))
        else:
            mods.append(nn.AvgPool2d(x.kernel, x.stride, x.padding))
    return nn.Sequential(*mods)


@dataclass(frozen=True)
class TorchCheck:
    out_sizes: tuple[int, ...]   # spatial side after each table layer, from running the nn layers
    params: tuple[int, ...]      # parameters of each nn layer
    out_shape: tuple[int, ...]   # (C, H, W) of the last output


def torch_check(layers: Sequence[Layer], input_size: int, in_channels: int = 3) -> TorchCheck:
    """Run the real ``torch.nn`` model of the table on a meta tensor (shapes only, no arithmetic)."""
    model = to_module(layers, in_channels, device="meta")
    h = torch.empty(1, in_channels, input_size, input_size, device="meta")
    sizes, params = [], []
    for mod in model:
        h = mod(h)
        sizes.append(int(h.shape[-1]))
        params.append(sum(p.numel() for p in mod.parameters()))
    return TorchCheck(tuple(sizes), tuple(params), tuple(int(v) for v in h.shape[1:]))


def _path_model(layers: Sequence[Layer], device: torch.device | str) -> nn.Sequential:
    """A one-channel, all-positive linear twin of the chain along one axis: ``nn.Conv1d`` layers
    with weights 1 for convolutions and 1/k for pools (as averages).

    A max pool forwards the gradient to one input of its window, but which one depends on the
    data; every input of the window *can* be chosen, so connectivity uses the average.
    """
    mods = []
    for x in layers:
        conv = nn.Conv1d(1, 1, x.kernel, x.stride, x.padding, x.dilation, bias=False, device=device,
                         dtype=torch.float64)
        nn.init.constant_(conv.weight, 1.0 if x.kind == "conv" else 1.0 / x.kernel)
        mods.append(conv)
    return nn.Sequential(*mods).requires_grad_(False)


def unit_gradient(layers: Sequence[Layer], input_size: int, row: int, col: int, *,
                  device: torch.device | str = "cpu") -> Tensor:
    r"""$\partial y_{row,col} / \partial x$ for the last layer of the all-positive linear twin of the
    chain, shape (input_size, input_size), float64 on the CPU.

    Each entry counts the weighted paths from an input pixel to the unit, so its support (the
    nonzero entries) is the unit's receptive field clipped to the image, measured by autograd.
    The twin's square kernels of ones are separable, so the 2D gradient is the outer product of
    two 1D gradients (rows, columns) taken through ``nn.Conv1d`` layers: the same numbers as the
    2D network at a cost linear in the image side (tests compare with 2D torch models).
    """
    model = _path_model(layers, device)
    x = torch.zeros(1, 1, input_size, dtype=torch.float64, device=device, requires_grad=True)
    y = model(x)                                      # (1, 1, n_L)
    if not (0 <= row < y.shape[-1] and 0 <= col < y.shape[-1]):
        raise ValueError(f"Invalid unit: ({row}, {col}) (allowed 0..{y.shape[-1] - 1} on each axis)")
    (g_row,) = torch.autograd.grad(y[0, 0, row], x, retain_graph=True)
    (g_col,) = torch.autograd.grad(y[0, 0, col], x)
    return torch.outer(g_row[0, 0], g_col[0, 0]).cpu()


def photo(side: int, name: str = "china") -> np.ndarray:
    """The centre square of a bundled sample photo resized to ``side`` x ``side``: (side, side, 3) uint8."""
    if not 1 <= side <= MAX_INPUT:
        raise ValueError(f"Invalid side: {side} (allowed 1..{MAX_INPUT})")
    img = sample_image(name)                                   # (3, H, W) in [0, 1]
    h, w = img.shape[1:]
    m = min(h, w)
    top, left = (h - m) // 2, (w - m) // 2
    sq = img[:, top:top + m, left:left + m][None]
    small = torch.nn.functional.interpolate(sq, size=(side, side), mode="bilinear", antialias=True,
                                            align_corners=False)[0]
    return (small.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def support(grad: Tensor) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the nonzero entries of an (n, n) gradient; None when all are zero
    (a unit whose field lies entirely in the padding)."""
    nz = torch.nonzero(grad)
    if not len(nz):
        return None
    return int(nz[:, 0].min()), int(nz[:, 0].max()), int(nz[:, 1].min()), int(nz[:, 1].max())


@dataclass(frozen=True)
class UnitField:
    grad: np.ndarray                          # (n, n) paths from each pixel to the unit (autograd), float64
    box: tuple[float, float, float, float]    # the recurrence's square (top, bottom, left, right), may pass the image
    centres: np.ndarray                       # (n_l,) centre coordinate of each unit row / column of the layer
    measured: tuple[int, int, int, int] | None  # bounding box of the nonzero gradient (None: only padding)
    check: str   # "square": measured = the square clipped to the image; "border": = exact_field (deeper
    #              padding cut it); "padding": nothing reaches the unit; "mismatch": a bug


def unit_field(layers: Sequence[Layer], input_size: int, in_channels: int, row: int, col: int, *,
               device: torch.device | str = "cpu") -> UnitField:
    """The field of unit (row, col) of the last layer three ways: the recurrence's square, the exact
    walk back (:func:`exact_field`) and autograd (:func:`unit_gradient`), and how they agree."""
    df = table(layers, input_size, in_channels)
    L = len(df)
    grad = unit_gradient(layers, input_size, row, col, device=device)
    measured, exact = support(grad), exact_field(df, L, row, col)
    box = field_box(df, L, row, col)
    clip = tuple(min(max(round(v), 0), input_size - 1) for v in box)
    if measured is None:
        check = "padding" if exact is None else "mismatch"
    else:
        check = "square" if measured == clip else "border" if measured == exact else "mismatch"
    rec = df.iloc[-1]
    return UnitField(grad.numpy(), box, rec.start + np.arange(rec.out_size) * rec.jump, measured, check)


# --- the effective receptive field (Luo et al. 2016) ----------------------------------------------

def stack(depth: int, *, kernel: int = 3, pool_every: int = 0, pool: str = "max_pool") -> list[Layer]:
    """``depth`` "same" k x k convs (padding k // 2), with a 2 x 2 stride-2 pool after every
    ``pool_every`` convs (0: none)."""
    if not 1 <= depth <= MAX_ERF_DEPTH:
        raise ValueError(f"Invalid depth: {depth} (allowed 1..{MAX_ERF_DEPTH})")
    layers = []
    for i in range(depth):
        layers.append(Layer("conv", kernel, padding=kernel // 2, name=f"conv{i + 1}"))
        if pool_every and (i + 1) % pool_every == 0 and i + 1 < depth:
            layers.append(Layer(pool, 2, 2, name=f"pool{(i + 1) // pool_every}"))
    return layers


@dataclass(frozen=True)
class ERFConfig:
    input_size: int = 41            # the stack's theoretical field: the centre unit sees it all
    relu: bool = True               # a ReLU after every conv (False: a linear network)
    seeds: int = 4                  # networks (and random inputs) averaged
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.input_size <= MAX_ERF_INPUT:
            raise ValueError(f"Invalid input size: {self.input_size} (allowed 1..{MAX_ERF_INPUT})")
        if not 1 <= self.seeds <= MAX_ERF_SEEDS:
            raise ValueError(f"Invalid seeds: {self.seeds} (allowed 1..{MAX_ERF_SEEDS})")


def erf_input(layers: Sequence[Layer], input_size: int | None = None) -> int:
    """The input side an effective field is measured on: ``input_size`` (default: the chain's whole theoretical
    field, so the centre unit sees all of it) capped at ``MAX_ERF_INPUT``."""
    side = int(table(layers, MAX_INPUT, 1).rf.iloc[-1]) if input_size is None else input_size
    return min(side, MAX_ERF_INPUT)


@dataclass(frozen=True)
class ERFCost:
    """What one :func:`effective_field` call would cost, estimated from the table before anything runs."""
    macs: int            # multiply-adds of the convolutions, forward, one seed
    seconds: float       # estimated CPU seconds for every seed, forward and backward
    largest_map: int     # bytes of the largest intermediate map (float32, ERF_WIDTH channels)
    held_bytes: int      # bytes autograd holds for one seed's backward pass (every layer's output, pool indices)


class ERFCostError(ValueError):
    """An effective field too costly to measure: ``code`` "time" or "memory", ``values`` for the page's message."""

    def __init__(self, code: str, **values: float) -> None:
        self.code, self.values = code, values
        super().__init__(f"Invalid effective-field measurement: {code} "
                         f"({', '.join(f'{k}={v:g}' for k, v in values.items())})")


def erf_cost(layers: Sequence[Layer], cfg: ERFConfig) -> ERFCost:
    r"""The cost of ``effective_field(layers, cfg)`` from the layer table alone (no tensor is made).

    The network has ``ERF_WIDTH`` channels after every conv (one input channel) and, with ``cfg.relu``, a ReLU
    after each. Conv $l$ costs $n_l^2 \, c_{out} k_l^2 c_{in} / g$ forward multiply-adds (the table's formula),
    timed with its backward pass at ``ERF_FAST_MACS_PER_S`` (``ERF_SLOW_MACS_PER_S`` for kernels of
    ``ERF_SLOW_KERNEL`` taps or more), plus ``ERF_LAYER_S`` per layer and ``ERF_BYTE_S`` per byte held; the
    seeds run one after another. For the backward pass autograd holds every layer's output (twice with a ReLU:
    its input and its result) and a max pool's int64 indices; a seed's tensors are freed before the next seed.
    """
    wide = [replace(x, channels=ERF_WIDTH, groups=1) if x.kind == "conv" else x for x in layers]
    df = table(wide, cfg.input_size, 1)
    macs, seconds, largest, held = 0, 0.0, 0, 4 * cfg.input_size ** 2
    for x, row in zip(wide, df.itertuples()):
        size = 4 * row.c_out * row.out_size ** 2                         # float32 bytes of this layer's output
        largest = max(largest, size)
        held += size * (2 if x.kind == "conv" and cfg.relu else 1) + (2 * size if x.kind == "max_pool" else 0)
        macs += int(row.macs)
        rate = ERF_SLOW_MACS_PER_S if x.kernel >= ERF_SLOW_KERNEL else ERF_FAST_MACS_PER_S
        seconds += row.macs / rate + ERF_LAYER_S
    return ERFCost(macs, cfg.seeds * (seconds + held * ERF_BYTE_S), largest, held)


def check_erf_cost(layers: Sequence[Layer], cfg: ERFConfig) -> ERFCost:
    """:func:`erf_cost`, or :class:`ERFCostError` when it passes ``ERF_BUDGET_S`` or ``ERF_BUDGET_BYTES``.

    Depth, kernel, padding, input side and seeds are each capped, but their product is what costs: one 64 x 64
    kernel with padding 64 on 128 pixels is 2.8 s a seed, and 20 such 1 x 1 layers grow the map to 2688 pixels
    (2.7 GB held). So they are checked together, here.
    """
    cost = erf_cost(layers, cfg)
    if cost.held_bytes > ERF_BUDGET_BYTES:
        raise ERFCostError("memory", mb=round(cost.held_bytes / 2**20), budget=round(ERF_BUDGET_BYTES / 2**20),
                           side=int(table(layers, cfg.input_size, 1).out_size.max()))
    if cost.seconds > ERF_BUDGET_S:
        raise ERFCostError("time", seconds=round(cost.seconds, 1), budget=ERF_BUDGET_S, seeds=cfg.seeds)
    return cost


@dataclass(frozen=True)
class ERFResult:
    random: np.ndarray       # (n, n) mean |d y_centre / d x| over seeds, random weights, max 1
    uniform: np.ndarray      # (n, n) the all-ones twin's path counts (Gaussian-like), max 1
    centre: tuple[int, int]  # the output unit measured (row, col) of the last layer
    box: tuple[float, float, float, float]  # its theoretical field (top, bottom, left, right), may pass the image
    rf: int                  # theoretical field side
    erf_random: int          # side of the centred square holding ERF_MASS of ``random``
    erf_uniform: int         # the same for ``uniform``
    sigma_random: float      # standard deviation (pixels) of the column profile of ``random``
    sigma_uniform: float


def mass_side(grad: np.ndarray, cy: float, cx: float, mass: float = ERF_MASS) -> int:
    """Side of the smallest square centred on (cy, cx) (rounded to pixels) holding ``mass`` of ``grad``."""
    total = grad.sum()
    assert total > 0, "the gradient is zero everywhere"
    n = grad.shape[0]
    r0, c0 = int(round(cy)), int(round(cx))
    for h in range(n + 1):
        sub = grad[max(0, r0 - h):r0 + h + 1, max(0, c0 - h):c0 + h + 1]
        if sub.sum() >= mass * total - 1e-12:
            return 2 * h + 1
    return 2 * n + 1


def _sigma(grad: np.ndarray) -> float:
    """Standard deviation of the column profile (the gradient summed over rows), in pixels."""
    p = grad.sum(0)
    p = p / p.sum()
    x = np.arange(len(p))
    mu = (p * x).sum()
    return float(np.sqrt((p * (x - mu) ** 2).sum()))


def effective_field(layers: Sequence[Layer], cfg: ERFConfig, *, device: torch.device | str = "cpu") -> ERFResult:
    r"""Effective receptive field of the centre unit of the last layer (Luo et al. 2016).

    $\text{ERF}(x) = \mathbb{E}\,\big|\partial \textstyle\sum_c y_{c,i,j} / \partial x\big|$ over
    ``cfg.seeds`` randomly initialised networks (PyTorch's default init, ``ERF_WIDTH`` channels per
    conv, one input channel, a ReLU after every conv when ``cfg.relu``) each fed its own
    standard-normal input; $(i, j)$ is the centre unit. ``uniform`` is the same gradient for the
    all-ones linear twin: the number of paths, which the central limit theorem makes Gaussian.
    Raises :class:`ERFCostError` (a ``ValueError``) before computing anything when :func:`check_erf_cost` says
    the measurement would pass its time or memory budget.
    """
    check_erf_cost(layers, cfg)
    df = table(layers, cfg.input_size, 1)
    last = df.iloc[-1]
    ci = cj = int(last.out_size) // 2
    acc = torch.zeros(cfg.input_size, cfg.input_size, dtype=torch.float64, device=device)
    wide = [replace(x, channels=ERF_WIDTH, groups=1) if x.kind == "conv" else x for x in layers]
    model = to_module(wide, 1, relu=cfg.relu, device=device)
    convs = [m for m in model if isinstance(m, nn.Conv2d)]
    for k in range(cfg.seeds):
        with seeded(cfg.seed * 1000 + k):       # the initial weights to_module would draw under this seed
            for m in convs:
                m.reset_parameters()
        x = torch.randn(1, 1, cfg.input_size, cfg.input_size, generator=generator(cfg.seed * 1000 + k, device),
                        device=device).requires_grad_(True)
        y = model(x)                                    # (1, C, n_L, n_L)
        (g,) = torch.autograd.grad(y[0, :, ci, cj].sum(), x)
        acc += g[0, 0].abs().double()
    rand = (acc / cfg.seeds).cpu().numpy()
    uni = unit_gradient(layers, cfg.input_size, ci, cj, device=device).numpy()
    top, bottom, left, right = field_box(df, len(df), ci, cj)
    cy, cx = (top + bottom) / 2, (left + right) / 2
    rand_n = rand / rand.max() if rand.max() > 0 else rand
    return ERFResult(rand_n.astype(np.float32), (uni / uni.max()).astype(np.float32), (ci, cj),
                     (top, bottom, left, right), int(last.rf), mass_side(rand, cy, cx) if rand.max() > 0 else 0,
                     mass_side(uni, cy, cx), _sigma(rand) if rand.max() > 0 else 0.0, _sigma(uni))


@dataclass(frozen=True)
class ERFGrowth:
    depth: np.ndarray        # (D,) conv layers in the stack
    rf: np.ndarray           # (D,) theoretical field side
    erf_random: np.ndarray   # (D,) effective side, random ReLU/linear networks
    erf_uniform: np.ndarray  # (D,) effective side, the all-ones twin
    sqrt_fit: float          # a in erf_random ~ a sqrt(depth) (least squares)


def erf_growth(max_depth: int, *, kernel: int = 3, pool_every: int = 0, relu: bool = True, seeds: int = 4,
               seed: int = 0, device: torch.device | str = "cpu") -> ERFGrowth:
    r"""Theoretical and effective field side of a plain stack for depths 1..``max_depth``.

    Each depth is its own stack measured on an input exactly its theoretical field wide (capped
    at ``MAX_ERF_INPUT``); at most 10 depths, evenly spread, are measured. Luo et al. (2016): the
    effective side grows like $\sqrt{L}$ while the theoretical one grows like $L$.
    """
    if not 1 <= max_depth <= MAX_ERF_DEPTH:
        raise ValueError(f"Invalid depth: {max_depth} (allowed 1..{MAX_ERF_DEPTH})")
    depths, rfs, rand, uni = [], [], [], []
    for depth in sorted({int(round(v)) for v in np.linspace(1, max_depth, min(max_depth, 10))}):
        layers = stack(depth, kernel=kernel, pool_every=pool_every)
        res = effective_field(layers, ERFConfig(erf_input(layers), relu, seeds, seed), device=device)
        depths.append(depth)
        rfs.append(res.rf)
        rand.append(res.erf_random)
        uni.append(res.erf_uniform)
    d = np.asarray(depths, dtype=np.float64)
    e = np.asarray(rand, dtype=np.float64)
    a = float((np.sqrt(d) * e).sum() / d.sum())     # argmin_a sum (e - a sqrt(d))^2
    return ERFGrowth(d, np.asarray(rfs), e, np.asarray(uni, dtype=np.float64), a)
