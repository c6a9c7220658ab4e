"""The experiments behind each lesson's presets and defaults, importable without Streamlit.

One module per lesson (``ui/experiments/<slug>.py``): the page, the claim tests (``tests/claims``) and the
exercises run the same settings, so a retuned preset cannot drift from the sentences that describe it.
"""
