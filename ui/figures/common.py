"""Shared look of every figure: layout defaults, colours, animation controls."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

# Colour-blind-safe qualitative palette (Okabe-Ito), in a fixed order so the same
# racer / method / class keeps its colour across figures.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
           "#999999", "#882255", "#44AA99", "#332288")
DIVERGING = "RdBu_r"     # signed values (weights, perturbations, gradients): zero is white
SEQUENTIAL = "Viridis"   # magnitudes (attention weights, densities)


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def base_layout(fig: go.Figure, title: str, *, x: str | None = None, y: str | None = None,
                height: int = 420) -> go.Figure:
    """Title, axis labels, margins and legend placement shared by all figures."""
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"},
        height=height,
        margin={"l": 50, "r": 20, "t": 60, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "right", "x": 1.0},
        template="plotly_white",
    )
    if x is not None:
        fig.update_xaxes(title_text=x)
    if y is not None:
        fig.update_yaxes(title_text=y)
    return fig


def animation_controls(fig: go.Figure, frame_names: Sequence[str], *, play: str, pause: str,
                       step_label: str, duration_ms: int = 80) -> go.Figure:
    """Play / pause buttons and a scrub slider over ``fig.frames`` (all in the browser, no rerun).

    play / pause / step_label: translated labels from the page.
    """
    steps = [{"method": "animate", "label": name,
              "args": [[name], {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
                                "transition": {"duration": 0}}]} for name in frame_names]
    fig.update_layout(
        updatemenus=[{
            "type": "buttons", "direction": "left", "x": 0.0, "y": -0.12, "xanchor": "left", "yanchor": "top",
            "showactive": False,
            "buttons": [
                {"label": play, "method": "animate",
                 "args": [None, {"frame": {"duration": duration_ms, "redraw": True}, "fromcurrent": True,
                                 "transition": {"duration": 0}}]},
                {"label": pause, "method": "animate",
                 "args": [[None], {"mode": "immediate", "frame": {"duration": 0, "redraw": False},
                                   "transition": {"duration": 0}}]},
            ],
        }],
        sliders=[{"active": 0, "x": 0.15, "len": 0.85, "y": -0.08, "yanchor": "top",
                  "currentvalue": {"prefix": f"{step_label}: "}, "steps": steps}],
    )
    fig.update_layout(margin={"b": 110})
    return fig


def with_frames(fig: go.Figure, frames: Sequence[dict]) -> go.Figure:
    """``fig`` plus animation ``frames`` given as plain dicts (``{"name", "data", "traces", "layout"}``).

    Plotly validates every property of every frame when frames are added as objects, which
    costs ~3 ms a frame; these frames come from our own code, so they are attached without
    re-validation (the static part of ``fig`` was validated when it was built).
    """
    return go.Figure({"data": fig.data, "layout": fig.layout, "frames": list(frames)}, _validate=False)
