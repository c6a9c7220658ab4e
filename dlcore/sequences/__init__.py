"""Recurrent networks, the LSTM-gates lesson's maths in one place (*Neural Networks and Deep Learning*
review notes and d2l, "Recurrent neural networks").

- :mod:`dlcore.sequences.rnn`: RNN, LSTM and GRU cells written out (tested equal to ``torch.nn``), stepping
  through a sequence gate by gate, and the gradient flow back through time.
- :mod:`dlcore.sequences.tasks`: the sequence tasks trained live to compare the cells.
"""
