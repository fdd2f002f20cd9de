"""Model arrays: a scenario and parameter values → the arrays the engines take (transition and
reward arrays for the cohort engine, grid look-up tables for the microsimulation), with every
probability and finiteness check.
"""
