"""Getting started in a notebook: the code of docs/getting-started.md, run by the tests.

Run it from the repository root (``python docs/examples/getting_started.py``); each block
below is shown on the page, in order. It writes no file.
"""

# --- load
import costspine

scenario = costspine.load_scenario("scenarios/spine/base_case.toml")
print(scenario)

# --- run
result = costspine.run(scenario)
print(result)  # one line; in a notebook the cell shows a table of the headline numbers
print(result.summary())
frame = result.to_frame()  # pandas: one row per draw and strategy
print(frame[["strategy", "cost_total", "qalys"]])

# --- psa
psa = costspine.psa(scenario, draws=200, seed=1)
print(psa)
print(psa.to_frame().head())
draws = psa.draws  # PSAResult: arrays of shape (draw, strategy, ...)
print(draws.total_cost.shape)

# --- voi
voi = costspine.voi(psa)
print(voi.to_frame())

# --- dsa
dsa = costspine.dsa(scenario)
print(dsa.to_frame().head())

# --- bia
bia = costspine.bia("scenarios/spine/bia_commercial_plan.toml", years=3)
print(bia.to_frame().head())

# --- figure
from matplotlib.figure import Figure  # noqa: E402

from costspine.reports.figures import plot_ceac  # noqa: E402

ceac = psa.to_frame().pivot(index="wtp", columns="strategy", values="prob_cost_effective")
figure = Figure(figsize=(7, 4.5), layout="constrained")
ax = figure.subplots()
plot_ceac(ceac.index, ceac.to_numpy(), strategies=list(ceac.columns), currency="USD", ax=ax)
# figure.savefig("ceac.png", dpi=150)  # saving is your choice
