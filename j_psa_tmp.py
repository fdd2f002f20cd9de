import time, numpy as np
from costspine import load_scenario
from costspine.analysis.psa import run_psa
from costspine.cli.psa import psa_subgroups
s = load_scenario('scenarios/spine/base_case_microsim.toml')
t = time.time(); r = run_psa(s, 400, seed=5); print('psa s', time.time() - t)
t = time.time(); (sub,) = psa_subgroups(s, r); print('subgroups s', time.time() - t)
tot = (sub.share[:, :, None] * sub.cost).sum(1); print('sum err', np.max(np.abs(tot / r.costs.sum(-1) - 1)))
print('k range', [ (n, r.parameters[:, r.parameter_names.index(n)].min()) for n in r.parameter_names if n.startswith('k_')])
