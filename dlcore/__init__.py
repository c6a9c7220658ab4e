"""DL Lab's course material: PyTorch implementations of every lesson.

Import the submodules you need (``from dlcore import data``); this package file
imports nothing heavy so that the app's home page renders before torch loads.
"""
