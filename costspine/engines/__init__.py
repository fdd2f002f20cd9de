"""Engines: arrays in, arrays out. The cohort (Markov) trace, the microsimulation kernel (numpy
reference and numba), and reward accumulation with cycle corrections and discounting. Nothing
here imports anything else from costspine.
"""
