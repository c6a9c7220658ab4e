"""Attention and the Transformer, the lesson's maths in one place (d2l "Attention is All You Need";
*Neural Networks and Deep Learning* review notes, "Attention").

- :mod:`dlcore.attention.mechanism`: scaled dot-product, additive and multi-head attention, positional encoding,
  attention worked by hand (tested against ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention``).
- :mod:`dlcore.attention.bert`: the attention maps of the bundled MiniLM, recomputed from its own Q and K weights.
- :mod:`dlcore.attention.transformer`: a toy Transformer trained on small sequence tasks.
"""
