"""EVPPI of parameter groups: ``--evppi`` options to groups, and groups to one row per threshold.

Shared by ``costspine psa`` (:func:`costspine.analysis.psa_summary.analyze_psa`) and ``costspine voi``
(:mod:`costspine.analysis.voi_summary`); the regression estimators are in :mod:`costspine.analysis.voi`.
"""

from __future__ import annotations

import difflib

import numpy as np

from costspine.analysis.psa_result import PSAResult
from costspine.errors import UsageError


def parse_evppi_groups(options, draws: PSAResult) -> list[tuple[str, tuple[str, ...]]]:
    """Parameter groups for EVPPI from ``--evppi`` options, as ``(label, parameter names)``.

    Each option is one group: ``a,b`` is the joint EVPPI of ``a`` and ``b`` (label ``a+b``); repeat
    ``--evppi`` for several groups. A Dirichlet row's name means all its components (one is left
    out of the regression: it is determined by the others). ``each`` means every sampled parameter
    that varies, one at a time.
    """
    from costspine.analysis.psa_result import DrawColumns

    known = list(draws.parameter_names)
    groups = []
    for option in options or ():
        if option.strip() == "each" and "each" not in known:
            with DrawColumns(draws) as cols:  # one parameter's column at a time
                varying = [n for j, n in enumerate(known) if np.ptp(cols.parameter(j)) > 0]
            groups.extend((n, (n,)) for n in varying)
            continue
        names, labels = [], []
        for raw in option.split(","):
            name = raw.strip()
            if not name:
                raise UsageError(f"--evppi {option!r}: empty parameter name; give names separated by commas")
            labels.append(name)
            if name in draws.parameter_groups:
                names.extend(draws.parameter_groups[name][:-1])
            elif name in known:
                names.append(name)
            else:
                choices = known + list(draws.parameter_groups)
                hint = difflib.get_close_matches(name, choices, n=1)
                extra = f" — did you mean {hint[0]!r}?" if hint else ""
                raise UsageError(f"--evppi: unknown parameter {name!r}{extra} Sampled parameters: {', '.join(choices)}")
        groups.append(("+".join(dict.fromkeys(labels)), tuple(dict.fromkeys(names))))
    return groups


def compute_evppi_rows(draws: PSAResult, groups, *, wtp, method: str = "gam") -> list[dict]:
    """EVPPI (with its standard error) of each ``(label, names)`` group at each threshold.

    The standard error's random numbers come from the PSA seed (a stream named by the group and
    threshold), so the same draws give the same numbers in ``psa --evppi`` and ``voi``. Only the
    columns needed are read: total cost and effect, and each group's parameters.
    """
    from costspine._rng import stream
    from costspine.analysis.draw_stats import stream_decision_curves
    from costspine.analysis.psa_result import DrawColumns
    from costspine.analysis.voi import compute_evppi

    lam = np.asarray(wtp, dtype=float)
    rows = []
    with DrawColumns(draws) as cols:
        evpi = stream_decision_curves(cols, lam).evpi
        cost, effect = cols.cost_effect(0, cols.n_draws)  # (draw, strategy): the regressions need every draw
        thetas = {label: {name: cols.parameter(draws.parameter_names.index(name)) for name in group} for label, group in groups}
    for label, group in groups:
        theta = thetas[label]
        for j, w in enumerate(lam):
            rng = stream(draws.seed, f"evppi {','.join(group)} at {w!r}")  # costspine._rng's layout
            r = compute_evppi(effect * lam[j] - cost, theta, method=method, rng=rng)  # net benefit at this threshold
            rows.append(
                {
                    "group": label,
                    "parameters": list(group),
                    "wtp": float(w),
                    "evppi_per_person": r.evppi,
                    "se": r.se,
                    "evpi_per_person": float(evpi[j]),
                    "method": method,
                    "draws": r.n_draws,
                }
            )
    return rows
