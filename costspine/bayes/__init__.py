"""The Bayesian layer: calibration with PyMC (:mod:`~costspine.bayes.fit`, the only PyMC/ArviZ
importer), the posterior cache and pools PSA samples from (:mod:`~costspine.bayes.posterior`), and
the posterior predictive check (:mod:`~costspine.bayes.predictive`); a whole calibration as
``costspine fit`` runs it (:func:`~costspine.bayes.calibration.calibrate`).
"""
