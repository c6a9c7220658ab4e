"""Normalization, the lesson's maths in one place (*Neural Networks and Deep Learning* review notes, "BN"/"LN"; d2l
"Batch Normalization").

- :mod:`dlcore.normalization.layers`: batch, layer, instance and group normalization written out, each tested
  equal to ``torch.nn.functional``; running statistics and the masked/sequence variants.
- :mod:`dlcore.normalization.lab`: the lab's experiments (the cube of statistics, the affine view, batch noise,
  train/eval drift, sequences of different lengths, the check table).
- :mod:`dlcore.normalization.training`: small CNNs with each method trained side by side (``torch.nn`` layers).
"""
