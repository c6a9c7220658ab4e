"""Convolution lesson: building the sliding-window animation, its JSON size, the other views."""

from __future__ import annotations

import torch

from bench import Row, best_of


def run() -> list[Row]:
    from dlcore import conv
    from ui.figures import convolution as figs

    rows: list[Row] = []
    for n, k, p in [(6, 3, 0), (16, 3, 1), (16, 7, 4)]:
        x = conv.make_input("random", n, 0)
        w = conv.make_kernel("random", k, 0)

        def build(x=x, w=w, p=p):
            tr = conv.conv2d_trace(x, w, stride=1, padding=p)
            return figs.sliding_window(tr, p, {**{k: k for k in figs.SLIDE_LABELS},
                                               "equation": "y[{r},{c}] = {terms} = {y}"})
        ms = best_of(build, repeat=3)
        size = len(build().to_json()) / 2**20
        frames = conv.conv_output_size(n, k, 1, p) ** 2
        rows.append(Row("convolution", f"animation {n}x{n}, k={k}, p={p}: build", ms, "ms", f"{frames} frames"))
        rows.append(Row("convolution", f"animation {n}x{n}, k={k}, p={p}: JSON", size, "MB", "target <= 1 MB"))
    x6 = conv.make_input("random", 6, 0)
    w3 = conv.make_kernel("random", 3, 0)
    rows.append(Row("convolution", "transposed views 6x6, k=3, s=2", best_of(
        lambda: conv.conv_transpose2d_views(x6, w3, stride=2, padding=1, output_padding=1)), "ms"))
    rows.append(Row("convolution", "conv matrix 6x6 -> C (16x36)", best_of(
        lambda: conv.conv_matrix(6, 6, w3.double())), "ms"))
    img = conv.smooth_image()
    rows.append(Row("convolution", "checkerboard upsample x3", best_of(lambda: conv.upsample_x2(img)), "ms"))
    rgb = conv.rgb_photo(96)
    layer = conv.random_layer(3, 8, 3, 0)
    rows.append(Row("convolution", "8-channel layer on 96x144 photo", best_of(
        lambda: conv.feature_maps(rgb, layer)), "ms", f"torch threads {torch.get_num_threads()}"))
    return rows
