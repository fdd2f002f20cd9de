"""Unit-cost data: the catalogue of prices, the medical-care CPI and payer multipliers
(:mod:`~costspine.catalogue.tables`, read from ``costspine/data``), and price resolution and
fee-policy arithmetic (:mod:`~costspine.catalogue.prices`).
"""
