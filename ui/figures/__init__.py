"""Plotly figure builders: plain data in, ``go.Figure`` out; they never compute or train."""
