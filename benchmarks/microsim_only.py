"""Whole-process microsimulation without report files: load a scenario, simulate, print the means
and MCSEs. The counterpart of ``sick_sicker_plain_numpy.py`` (which also only computes and prints)
in ``bench_microsim.py``; ``costspine run`` additionally writes CSVs, JSON and a workbook.

    python benchmarks/microsim_only.py scenarios/examples/sick_sicker.toml 100000 1
"""

import sys

from costspine.scenario.load import load_scenario
from costspine.simulate.microsim import run_microsim

if __name__ == "__main__":
    path, individuals, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    result = run_microsim(load_scenario(path), n_individuals=individuals, seed=seed)
    effect = result.outcome_names.index(result.scenario.analysis.effect)
    for k, strategy in enumerate(result.strategies):
        print(
            f"{strategy}: cost {result.total_cost[0, k]:,.0f} (MCSE {result.total_cost_se[0, k]:,.0f}), "
            f"{result.scenario.analysis.effect} {result.outcomes[0, k, effect]:.3f} (MCSE {result.outcomes_se[0, k, effect]:.3f}); "
            f"increment vs comparator: cost MCSE {result.incremental_cost_se[0, k]:,.1f}"
        )
