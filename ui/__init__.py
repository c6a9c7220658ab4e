"""Shared Streamlit + Plotly presentation for DL Lab's pages."""
