"""Analyses of run results: cost-effectiveness, PSA, value of information, one-way sensitivity and
budget impact. Typed results in and out; no printing (files only where a run is resumable).
"""
