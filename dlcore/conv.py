r"""Convolution and transposed convolution, step by step (notes 001 "其他卷积", d2l ch. 6 and 13.10).

Single-channel 2D cross-correlation as PyTorch computes it,

    y[r, c] = \sum_{i, j} w[i, j] \, x_p[r s + i d, \; c s + j d],

where x_p is the input zero-padded by p on every side, s the stride and d the dilation;
its transpose (the "deconvolution" that upsamples); the sparse matrix C that both are
multiplications by; checkerboard overlap counts; and the cost of standard, grouped,
depthwise and pointwise convolutions. Every value here is checked against
``torch.nn.functional.conv2d`` / ``conv_transpose2d`` in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

MAX_SIZE = 16      # largest input side the step-by-step views accept
MAX_KERNEL = 7
MAX_STRIDE = 4
MAX_PADDING = 4
MAX_DILATION = 4
MAX_OUTPUT_PADDING = 3
MAX_TYPED = 1000.0  # largest |value| a learner may type into the input grid


# ---------------------------------------------------------------- output sizes
def _check_hyper(i: int, k: int, s: int, p: int, d: int) -> None:
    if i < 1 or k < 1 or s < 1 or d < 1 or p < 0:
        raise ValueError(f"need input >= 1, kernel >= 1, stride >= 1, dilation >= 1, padding >= 0; "
                         f"got i={i}, k={k}, s={s}, p={p}, d={d}")


def _check_grids(x: Tensor, w: Tensor) -> None:
    if not (x.dim() == 2 and w.dim() == 2 and w.shape[0] == w.shape[1]):
        raise ValueError(f"Invalid shapes: x {tuple(x.shape)}, w {tuple(w.shape)} (allowed x (H, W), w (k, k))")


def conv_output_size(i: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    r"""Output side of a convolution: o = \lfloor (i + 2p - d(k-1) - 1) / s \rfloor + 1.

    i: input side; k: kernel side; s: stride; p: padding; d: dilation.
    Raises ValueError where torch refuses: the dilated kernel d(k-1)+1 is larger than
    the padded input i + 2p (the output would be empty).
    """
    _check_hyper(i, k, s, p, d)
    span = d * (k - 1) + 1          # the dilated kernel's extent
    if span > i + 2 * p:
        raise ValueError(f"dilated kernel ({span}) is larger than the padded input ({i + 2 * p})")
    return (i + 2 * p - span) // s + 1


def conv_transpose_output_size(i: int, k: int, s: int = 1, p: int = 0, d: int = 1, output_padding: int = 0) -> int:
    r"""Output side of a transposed convolution: o = (i - 1)s - 2p + d(k - 1) + output\_padding + 1.

    With d = 1 and no output padding this is the notes' (W - 1)s - 2p + k.
    Raises ValueError where torch refuses: output_padding must be smaller than the
    stride or the dilation, and the output must not be empty.
    """
    _check_hyper(i, k, s, p, d)
    if output_padding < 0 or output_padding >= max(s, d):
        raise ValueError(f"output_padding ({output_padding}) must be smaller than stride ({s}) or dilation ({d})")
    o = (i - 1) * s - 2 * p + d * (k - 1) + output_padding + 1
    if o < 1:
        raise ValueError(f"the output would be empty ({o}): padding {p} crops more than the transposed conv makes")
    return o


def inputs_with_same_output(o: int, k: int, s: int = 1, p: int = 0, d: int = 1, limit: int = 64) -> list[int]:
    """Every input side up to ``limit`` that a convolution maps to output side ``o``.

    With stride s > 1 there are up to s of them, because the floor drops the remainder;
    that ambiguity is why a transposed convolution needs ``output_padding`` to pick one.
    """
    out = []
    for i in range(1, limit + 1):
        try:
            if conv_output_size(i, k, s, p, d) == o:
                out.append(i)
        except ValueError:
            continue
    return out


@dataclass(frozen=True)
class Sizes:
    """What the two size formulas say about one convolution of an i x i input and its transpose."""
    span: int                       # d(k - 1) + 1: the dilated kernel's extent
    padded: int                     # i + 2p
    output: int | None              # the convolution's output side; None where torch refuses (span > padded)
    same_inputs: tuple[int, ...]    # every input side with that output (several when the floor drops a remainder)
    transposed: int | None          # the transposed convolution's output side; None where torch refuses
    transposed_error: str | None    # why torch refuses it


def sizes(i: int, k: int, s: int = 1, p: int = 0, d: int = 1, output_padding: int = 0) -> Sizes:
    """``conv_output_size`` and ``conv_transpose_output_size`` of one setting, with what each refusal says."""
    span = d * (k - 1) + 1
    output, same = None, ()
    try:
        output = conv_output_size(i, k, s, p, d)
        same = tuple(inputs_with_same_output(output, k, s, p, d, limit=MAX_SIZE + 2 * MAX_PADDING + 8))
    except ValueError:
        pass
    try:
        return Sizes(span, i + 2 * p, output, same, conv_transpose_output_size(i, k, s, p, d, output_padding), None)
    except ValueError as e:
        return Sizes(span, i + 2 * p, output, same, None, str(e))


# ---------------------------------------------------------------- sliding window
@dataclass(frozen=True)
class ConvTrace:
    padded: Tensor     # (H + 2p, W + 2p): the input with its zero border
    kernel: Tensor     # (k, k)
    output: Tensor     # (Ho, Wo) = F.conv2d(x, w, stride=s, padding=p, dilation=d)
    rows: Tensor       # (Ho, Wo, k, k) padded-input row of every tap of every output cell
    cols: Tensor       # (Ho, Wo, k, k) padded-input column of every tap
    products: Tensor   # (Ho, Wo, k, k) w[i, j] * x_p[row, col]: the terms that sum to output[r, c]


def conv2d_trace(x: Tensor, w: Tensor, *, stride: int = 1, padding: int = 0, dilation: int = 1) -> ConvTrace:
    r"""Every multiply-add of a single-channel 2D convolution, position by position.

    x: (H, W) input; w: (k, k) kernel; stride s, padding p, dilation d as in ``F.conv2d``.
    Output cell (r, c) reads x_p[r s + i d, c s + j d] for i, j in 0..k-1 and sums
    w[i, j] times those values; ``products`` holds the terms, so
    ``products.sum((-1, -2))`` equals ``output``.
    """
    _check_grids(x, w)
    k = w.shape[0]
    ho = conv_output_size(x.shape[0], k, stride, padding, dilation)
    wo = conv_output_size(x.shape[1], k, stride, padding, dilation)
    padded = F.pad(x, (padding, padding, padding, padding))
    r = torch.arange(ho, device=x.device).view(ho, 1, 1, 1) * stride
    c = torch.arange(wo, device=x.device).view(1, wo, 1, 1) * stride
    i = torch.arange(k, device=x.device).view(1, 1, k, 1) * dilation
    j = torch.arange(k, device=x.device).view(1, 1, 1, k) * dilation
    rows = (r + i).expand(ho, wo, k, k)
    cols = (c + j).expand(ho, wo, k, k)
    products = w * padded[rows, cols]
    output = F.conv2d(x[None, None], w[None, None], stride=stride, padding=padding, dilation=dilation)[0, 0]
    return ConvTrace(padded, w, output, rows, cols, products)


# ---------------------------------------------------------------- transposed convolution
@dataclass(frozen=True)
class TransposedViews:
    canvas: Tensor      # scatter view before cropping: every stamp added, (H-1)s + d(k-1) + 1 (+ output_padding)
    stamps: Tensor      # (H, W, n, n) each input cell's own stamp x[a, b] * w placed on the canvas
    dilated: Tensor     # direct view: the input with s-1 zeros between cells and d(k-1)-p zeros around
    flipped: Tensor     # the kernel rotated by 180 degrees
    output: Tensor      # F.conv_transpose2d(x, w, ...)


def conv_transpose2d_views(x: Tensor, w: Tensor, *, stride: int = 1, padding: int = 0, dilation: int = 1,
                           output_padding: int = 0) -> TransposedViews:
    r"""A transposed convolution computed two ways that both equal ``F.conv_transpose2d``.

    Scatter: input cell (a, b) stamps x[a, b] \cdot w onto the canvas at (a s, b s), taps
    spaced d apart; overlapping stamps add; then p rows/columns are cropped from each side
    (output_padding extra rows/columns are kept at the bottom/right).
    Direct: insert s - 1 zeros between input cells, pad d(k - 1) - p zeros around
    (plus output_padding at the bottom/right), and run a stride-1 convolution with the kernel
    flipped by 180 degrees and the same dilation d (``direct_output``); only for d = 1 is that an
    ordinary convolution (the notes' "two ends k - 1, middle s - 1" for p = 0, d = 1).
    """
    _check_grids(x, w)
    h, wd = x.shape
    k = w.shape[0]
    s, p, d, op = stride, padding, dilation, output_padding
    ho = conv_transpose_output_size(h, k, s, p, d, op)
    wo = conv_transpose_output_size(wd, k, s, p, d, op)
    # 1) scatter: each input value stamps a scaled copy of the (dilated) kernel
    n_h = (h - 1) * s + d * (k - 1) + 1 + op
    n_w = (wd - 1) * s + d * (k - 1) + 1 + op
    stamps = torch.zeros(h, wd, n_h, n_w, dtype=x.dtype, device=x.device)
    taps = torch.arange(k, device=x.device) * d
    for a in range(h):
        for b in range(wd):
            rows = (a * s + taps).view(k, 1)
            cols = (b * s + taps).view(1, k)
            stamps[a, b, rows, cols] = x[a, b] * w
    canvas = stamps.sum(dim=(0, 1))
    # 2) direct: zeros between and around, flipped kernel, stride 1
    spread = torch.zeros((h - 1) * s + 1, (wd - 1) * s + 1, dtype=x.dtype, device=x.device)
    spread[::s, ::s] = x
    border = d * (k - 1) - p
    dilated = F.pad(spread, (border, border + op, border, border + op))  # negative padding crops
    flipped = torch.flip(w, dims=(0, 1))
    output = F.conv_transpose2d(x[None, None], w[None, None], stride=s, padding=p, dilation=d,
                                output_padding=op)[0, 0]
    assert output.shape == (ho, wo), f"torch gave {tuple(output.shape)}, formula {ho, wo}"   # the formula is right
    return TransposedViews(canvas, stamps, dilated, flipped, output)


def scatter_output(views: TransposedViews, padding: int) -> Tensor:
    """The scatter view's answer: the canvas with ``padding`` cropped from each side."""
    c = views.canvas
    return c[padding: c.shape[0] - padding, padding: c.shape[1] - padding]


def direct_output(views: TransposedViews, dilation: int = 1) -> Tensor:
    """The direct view's answer: a stride-1 convolution of the spread input with the flipped kernel, taps
    ``dilation`` cells apart (the same d as the transposed convolution)."""
    return F.conv2d(views.dilated[None, None], views.flipped[None, None], dilation=dilation)[0, 0]


# ---------------------------------------------------------------- matrix view
def conv_matrix(h: int, w: int, kernel: Tensor, *, stride: int = 1, padding: int = 0, dilation: int = 1) -> Tensor:
    r"""The matrix C with vec(conv(x)) = C vec(x) for an (h, w) input: shape (Ho Wo, h w).

    Row (r, c) holds the kernel's weights at the input positions that output cell reads
    (taps falling in the zero padding drop out). The transposed convolution is C^T, and
    since conv is linear, \partial \langle g, conv(x) \rangle / \partial x = C^T g.
    """
    k = kernel.shape[0]
    ho = conv_output_size(h, k, stride, padding, dilation)
    wo = conv_output_size(w, k, stride, padding, dilation)
    mat = torch.zeros(ho * wo, h * w, dtype=kernel.dtype, device=kernel.device)
    for r in range(ho):
        for c in range(wo):
            for i in range(k):
                for j in range(k):
                    y = r * stride + i * dilation - padding
                    x = c * stride + j * dilation - padding
                    if 0 <= y < h and 0 <= x < w:
                        mat[r * wo + c, y * w + x] += kernel[i, j]
    return mat


def input_gradient(x: Tensor, w: Tensor, g: Tensor, *, stride: int = 1, padding: int = 0, dilation: int = 1) -> Tensor:
    r"""\partial \langle g, conv(x) \rangle / \partial x by autograd (equals conv_transpose2d(g, w))."""
    x = x.detach().clone().requires_grad_(True)
    y = F.conv2d(x[None, None], w[None, None], stride=stride, padding=padding, dilation=dilation)[0, 0]
    (grad,) = torch.autograd.grad((y * g).sum(), x)
    return grad


@dataclass(frozen=True)
class MatrixView:
    matrix: Tensor              # C (Ho Wo, h w) in float64
    errors: tuple[float, ...]   # max |C vec(x) - conv(x)|, max |C^T vec(g) - conv_transpose(g)|, max |autograd - C^T g|


def matrix_view(x: Tensor, w: Tensor, *, stride: int = 1, padding: int = 0, dilation: int = 1,
                seed: int = 0) -> MatrixView:
    r"""The convolution matrix C of an (h, w) input and the three facts the lesson reads from it, in float64:
    C vec(x) is the convolution; C^T vec(g) is the transposed convolution of g; and C^T g is the gradient
    \partial \langle g, conv(x) \rangle / \partial x that autograd computes (g a seeded random output gradient)."""
    x, w = x.double(), w.double()
    c = conv_matrix(*x.shape, w, stride=stride, padding=padding, dilation=dilation)
    y = F.conv2d(x[None, None], w[None, None], stride=stride, padding=padding, dilation=dilation)[0, 0]
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    grad = input_gradient(x, w, g, stride=stride, padding=padding, dilation=dilation)
    extra = x.shape[0] - conv_transpose_output_size(y.shape[0], w.shape[0], stride, padding, dilation)  # floor's rows
    ct = F.conv_transpose2d(g[None, None], w[None, None], stride=stride, padding=padding, dilation=dilation,
                            output_padding=extra if extra < max(stride, dilation) else 0)[0, 0]
    ct = F.pad(ct, (0, x.shape[1] - ct.shape[1], 0, x.shape[0] - ct.shape[0]))   # the rows it cannot reach are 0
    cg = c.T @ g.flatten()
    return MatrixView(c, (float((c @ x.flatten() - y.flatten()).abs().max()), float((cg - ct.flatten()).abs().max()),
                          float((grad.flatten() - cg).abs().max())))


# ---------------------------------------------------------------- checkerboard
def overlap_counts(h: int, w: int, k: int, stride: int) -> Tensor:
    """How many input cells write to each output cell of a transposed conv (padding 0).

    Computed as ``conv_transpose2d`` of ones with a kernel of ones. Uneven counts (k not a
    multiple of the stride) are the checkerboard of Odena et al. (2016).
    """
    ones = torch.ones(1, 1, h, w)
    return F.conv_transpose2d(ones, torch.ones(1, 1, k, k), stride=stride)[0, 0]


@dataclass(frozen=True)
class Upsampled:
    source: Tensor        # (H, W) smooth input
    transposed_k3: Tensor  # (2H, 2W) transposed conv, k=3, s=2, uniform kernel
    transposed_k4: Tensor  # (2H, 2W) transposed conv, k=4, s=2, uniform kernel
    resize_conv: Tensor    # (2H, 2W) nearest-neighbour x2 then a 3x3 uniform conv


def upsample_x2(img: Tensor) -> Upsampled:
    r"""A smooth (H, W) image upsampled x2 three ways (Odena, Dumoulin & Olah, Distill 2016).

    Every kernel is uniform and scaled so that a constant image stays constant where the
    overlap is even: k=3, s=2 gets 4/9 per tap (overlaps alternate 1, 2 per axis: a
    checkerboard); k=4, s=2 gets 1/4 (every interior cell overlapped twice per axis: flat);
    resize-then-convolve uses 1/9 after nearest upsampling (flat).
    """
    x = img[None, None]
    h, w = img.shape
    k3 = torch.full((1, 1, 3, 3), 4.0 / 9.0, dtype=img.dtype)
    k4 = torch.full((1, 1, 4, 4), 1.0 / 4.0, dtype=img.dtype)
    t3 = F.conv_transpose2d(x, k3, stride=2, padding=1, output_padding=1)[0, 0]
    t4 = F.conv_transpose2d(x, k4, stride=2, padding=1)[0, 0]
    up = F.interpolate(x, scale_factor=2, mode="nearest")
    rc = F.conv2d(F.pad(up, (1, 1, 1, 1), mode="replicate"), torch.full((1, 1, 3, 3), 1.0 / 9.0, dtype=img.dtype))[0, 0]
    assert t3.shape == t4.shape == rc.shape == (2 * h, 2 * w)
    return Upsampled(img, t3, t4, rc)


# ---------------------------------------------------------------- channels and cost
def classic_kernels() -> dict[str, Tensor]:
    """Hand-designed 3x3 kernels: identity, box blur, Gaussian blur, sharpen, Laplacian edge, Sobel x / y."""
    return {
        "identity": torch.tensor([[0.0, 0, 0], [0, 1, 0], [0, 0, 0]]),
        "box_blur": torch.full((3, 3), 1.0 / 9.0),
        "gaussian_blur": torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16.0,
        "sharpen": torch.tensor([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
        "edge": torch.tensor([[-1.0, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
        "sobel_x": torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
        "sobel_y": torch.tensor([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]]),
    }


def feature_maps(img: Tensor, weight: Tensor, *, padding: int = 1, groups: int = 1) -> Tensor:
    """``F.conv2d`` of one (C, H, W) image with weight (M, C/groups, k, k): (M, H', W') feature maps."""
    return F.conv2d(img[None], weight, padding=padding, groups=groups)[0]


def random_layer(c_in: int, c_out: int, k: int, seed: int) -> Tensor:
    """The weight (c_out, c_in, k, k) of a freshly initialised ``nn.Conv2d`` (Kaiming-uniform), seeded."""
    from dlcore.device import seeded

    with seeded(seed):
        layer = torch.nn.Conv2d(c_in, c_out, k, bias=False)
    return layer.weight.detach()


@dataclass(frozen=True)
class ConvCost:
    kind: str
    params: int        # weights (no bias)
    mult_adds: int     # multiply-accumulates for one H x W output map of every output channel


def conv_cost(h: int, w: int, n: int, m: int, k: int, kind: str = "standard", groups: int = 1) -> ConvCost:
    r"""Parameters and multiply-adds of one layer with 'same' output size H x W (lightweight networks).

    standard: H W N K^2 M;  grouped: H W N K^2 M / G;  depthwise: H W K^2 N (M = N);
    pointwise (1x1): H W N M;  separable = depthwise + pointwise, whose ratio to standard is
    1/M + 1/K^2. N input channels, M output channels, K kernel side, G groups.
    """
    if kind == "standard":
        params = n * m * k * k
    elif kind == "grouped":
        if n % groups or m % groups:
            raise ValueError(f"groups ({groups}) must divide both N ({n}) and M ({m})")
        params = n * m * k * k // groups
    elif kind == "depthwise":
        params = n * k * k
    elif kind == "pointwise":
        params = n * m
    elif kind == "separable":
        params = n * k * k + n * m
    else:
        raise ValueError(f"unknown convolution kind {kind!r}")
    return ConvCost(kind, params, params * h * w)


def cost_rows(h: int, w: int, n: int, m: int, k: int, groups: int) -> list[ConvCost]:
    """``conv_cost`` of every kind for one layer: standard, grouped (only where G divides N and M), depthwise,
    pointwise and depthwise-separable."""
    kinds = ["standard", *(["grouped"] if n % groups == 0 and m % groups == 0 else []), "depthwise", "pointwise",
             "separable"]
    return [conv_cost(h, w, n, m, k, kind, groups) for kind in kinds]


# ---------------------------------------------------------------- lesson inputs
INPUT_KINDS = ("random", "ones", "photo")
KERNEL_KINDS = ("random", "ones", "edge", "sobel_x", "gaussian_blur")


LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601 weights of R, G, B in grey


def rgb_photo(height: int = 96) -> Tensor:
    """The bundled "china" photo, area-downsampled to ``height`` rows: (3, height, width) in [0, 1]."""
    from dlcore.data import sample_image

    rgb = sample_image("china")
    width = round(height * rgb.shape[2] / rgb.shape[1])
    return F.interpolate(rgb[None], size=(height, width), mode="area")[0]


def to_grey(rgb: Tensor) -> Tensor:
    r"""Grey = a 1x1 convolution of the RGB channels with the luma weights: (3, H, W) -> (H, W).

    A 1x1 kernel looks at one pixel but all channels: y = \sum_c w_c x_c, channel mixing only.
    """
    w = torch.tensor(LUMA, dtype=rgb.dtype, device=rgb.device).view(1, 3, 1, 1)
    return F.conv2d(rgb[None], w)[0, 0]


def grey_photo(height: int = 96) -> Tensor:
    """The bundled photo in grey (:func:`to_grey` of :func:`rgb_photo`), in [0, 1]."""
    return to_grey(rgb_photo(height))


def make_input(kind: str, size: int, seed: int) -> Tensor:
    """A size x size lesson input: small random integers 0..9, all ones, or a photo patch scaled to 0..9."""
    if kind not in INPUT_KINDS:
        raise ValueError(f"Invalid input kind: {kind!r} (allowed {', '.join(INPUT_KINDS)})")
    if not 1 <= size <= MAX_SIZE:
        raise ValueError(f"Invalid input size: {size} (allowed 1 to {MAX_SIZE})")
    if kind == "random":
        from dlcore.device import generator

        return torch.randint(0, 10, (size, size), generator=generator(seed)).float()
    if kind == "ones":
        return torch.ones(size, size)
    patch = grey_photo(64)[20:20 + size, 40:40 + size]
    return torch.round(patch * 9)


def make_kernel(kind: str, k: int, seed: int) -> Tensor:
    """A k x k lesson kernel: random integers in {-1, 0, 1}, ones, or a classic 3x3 filter (k = 3 only)."""
    if kind not in KERNEL_KINDS:
        raise ValueError(f"Invalid kernel kind: {kind!r} (allowed {', '.join(KERNEL_KINDS)})")
    if not 1 <= k <= MAX_KERNEL:
        raise ValueError(f"Invalid kernel size: {k} (allowed 1 to {MAX_KERNEL})")
    if kind == "random":
        from dlcore.device import generator

        return torch.randint(-1, 2, (k, k), generator=generator(seed + 1)).float()
    if kind == "ones" or k != 3:
        return torch.ones(k, k)
    return classic_kernels()[kind].clone()


def smooth_image(size: int = 24) -> Tensor:
    """A smooth size x size test image (a blurred photo patch) for the checkerboard comparison."""
    patch = grey_photo(96)[30:30 + size, 70:70 + size]
    blur = classic_kernels()["gaussian_blur"][None, None]
    return F.conv2d(F.pad(patch[None, None], (1, 1, 1, 1), mode="replicate"), blur)[0, 0]


@dataclass(frozen=True)
class ConvConfig:
    """One single-channel convolution of the lesson: its input, its kernel and its hyperparameters."""
    size: int = 6             # input side
    k: int = 3                # kernel side
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    output_padding: int = 0   # the transposed convolution's extra bottom rows / right columns
    source: str = "random"    # one of INPUT_KINDS
    kernel: str = "random"    # one of KERNEL_KINDS
    seed: int = 0
    typed: tuple[tuple[float, ...], ...] | None = None   # the learner's own size x size input (replaces source)

    def __post_init__(self) -> None:
        for name, lo, hi in (("size", 1, MAX_SIZE), ("k", 1, MAX_KERNEL), ("stride", 1, MAX_STRIDE),
                             ("padding", 0, MAX_PADDING), ("dilation", 1, MAX_DILATION),
                             ("output_padding", 0, MAX_OUTPUT_PADDING)):
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise ValueError(f"Invalid {name}: {value} (allowed {lo} to {hi})")
        if self.source not in INPUT_KINDS:
            raise ValueError(f"Invalid source: {self.source!r} (allowed {', '.join(INPUT_KINDS)})")
        if self.kernel not in KERNEL_KINDS:
            raise ValueError(f"Invalid kernel: {self.kernel!r} (allowed {', '.join(KERNEL_KINDS)})")
        if self.typed is not None:
            if len(self.typed) != self.size or any(len(row) != self.size for row in self.typed):
                raise ValueError(f"Invalid typed input: not {self.size} x {self.size}")
            if not all(math.isfinite(v) and abs(v) <= MAX_TYPED for row in self.typed for v in row):
                raise ValueError(f"Invalid typed input: a value is not a number in [-{MAX_TYPED:g}, {MAX_TYPED:g}]")

    def input(self) -> Tensor:
        """The (size, size) input: the typed values, else ``make_input(source, size, seed)``."""
        if self.typed is not None:
            return torch.tensor(self.typed, dtype=torch.float32)
        return make_input(self.source, self.size, self.seed)

    def weight(self) -> Tensor:
        """The (k, k) kernel: ``make_kernel(kernel, k, seed)``."""
        return make_kernel(self.kernel, self.k, self.seed)
