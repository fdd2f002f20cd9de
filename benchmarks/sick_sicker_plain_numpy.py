"""Plain-numpy Sick-Sicker microsimulation (Krijkamp et al. 2018, Appendix A inputs), the
reference workload of benchmarks/bench_microsim.py: 100,000 individuals x 30 annual cycles x 2
strategies, vectorised over individuals, nothing but numpy. Timed as a whole process.

Counts cycles 0..30 like the tutorial (costspine counts 1..30; see scenarios/examples/sick_sicker.toml).
"""

import sys

import numpy as np

N_I, N_T, D = 100_000, 30, 0.03
P_HD, P_HS1, P_S1H, P_S1S2, RR_S1, RR_S2 = 0.005, 0.15, 0.5, 0.105, 3.0, 10.0
R_HD = -np.log(1 - P_HD)
P_S1D, P_S2D = 1 - np.exp(-RR_S1 * R_HD), 1 - np.exp(-RR_S2 * R_HD)
C_H, C_S1, C_S2, C_TRT = 2000.0, 4000.0, 15000.0, 12000.0
U_H, U_S1, U_S2, U_TRT = 1.0, 0.75, 0.5, 0.95
P = np.array(
    [
        [1 - P_HS1 - P_HD, P_HS1, 0, P_HD],
        [P_S1H, 1 - P_S1H - P_S1S2 - P_S1D, P_S1S2, P_S1D],
        [0, 0, 1 - P_S2D, P_S2D],
        [0, 0, 0, 1],
    ]
)
CUM = P.cumsum(axis=1)


def microsim(treated: bool, seed: int):
    rng = np.random.default_rng(seed)
    cost = np.array([C_H, C_S1 + C_TRT * treated, C_S2 + C_TRT * treated, 0.0])
    qaly = np.array([U_H, U_TRT if treated else U_S1, U_S2, 0.0])
    weight = (1 + D) ** -np.arange(N_T + 1)
    state = np.zeros(N_I, dtype=np.int64)
    tc, te = cost[state] * weight[0], qaly[state] * weight[0]
    for t in range(1, N_T + 1):
        u = rng.random(N_I)
        cum = CUM[state]
        state = (u >= cum[:, 0]).astype(np.int64) + (u >= cum[:, 1]) + (u >= cum[:, 2])
        tc += cost[state] * weight[t]
        te += qaly[state] * weight[t]
    return tc, te


if __name__ == "__main__":
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    (c0, e0), (c1, e1) = microsim(False, seed), microsim(True, seed)
    print(
        f"no treatment: cost {c0.mean():,.0f} (MCSE {c0.std(ddof=1) / np.sqrt(N_I):,.0f}), "
        f"QALYs {e0.mean():.3f} (MCSE {e0.std(ddof=1) / np.sqrt(N_I):.3f})"
    )
    print(
        f"treatment:    cost {c1.mean():,.0f} (MCSE {c1.std(ddof=1) / np.sqrt(N_I):,.0f}), "
        f"QALYs {e1.mean():.3f} (MCSE {e1.std(ddof=1) / np.sqrt(N_I):.3f})"
    )
    print(f"ICER {(c1.mean() - c0.mean()) / (e1.mean() - e0.mean()):,.0f}")
