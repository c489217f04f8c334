"""Optimizers and learning-rate schedules, one submodule per topic.

Import the submodule you need, e.g. ``from lmt_core.optim import schedules``.
"""
