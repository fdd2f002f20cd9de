"""The "Calculator" sheet of ``bia.xlsx``: the plan's budget as live Excel formulas.

A payer changes plan members, growth, the episode rate, prevalence, the discount rate, uptake by
year (current and new pathway mix) and the cost per patient by pathway, category and year since
entry; the budget by year, PMPM and difference recalculate in Excel. The arithmetic is that of
:mod:`costspine.analysis.bia_calculator`; this module lays it out as a
:class:`~costspine.reports.workbook.FormulaSheet` (cells and formula text, no openpyxl).
"""

from __future__ import annotations

from costspine.analysis.bia_calculator import WORLDS, calculator_inputs
from costspine.reports.wording import category_labels, unique_labels
from costspine.reports.workbook import Cell, FormulaSheet, cell_reference

SHEET_NAME = "Calculator"
LABEL_WIDTH = 44
NUMBER_WIDTH = 15


class _Grid:
    """Cells collected row by row."""

    def __init__(self):
        self.cells: list[Cell] = []
        self.row = 1

    def put(self, row, column, value, role="label", kind="text", decimals=None) -> str:
        self.cells.append(Cell(row, column, value, role, kind, decimals))
        return cell_reference(row, column)

    def line(self, *values, role="label", kind="text", start=1):
        for j, value in enumerate(values):
            if value is not None:
                self.put(self.row, start + j, value, role, kind)
        self.row += 1


def _terms(count: str, pairs) -> str:
    """``count*(m1*c1+m2*c2+...)`` for (mix cell, cost cell) pairs."""
    return f"{count}*(" + "+".join(f"{m}*{c}" for m, c in pairs) + ")"


def build_bia_calculator(run) -> FormulaSheet:
    """The calculator sheet of one base-case :class:`~costspine.analysis.bia_run.BiaRun`.

    Raises
    ------
    AnalysisError
        The run has parameter draws (see :func:`~costspine.analysis.bia_calculator.calculator_inputs`).
    """
    calc = calculator_inputs(run)
    scenario = run.scenario
    currency_note = f"{scenario.settings.currency}, constant {scenario.settings.price_year} prices"
    n_years = calc.n_years
    years = range(1, n_years + 1)
    prevalent = calc.prevalent_per_1000 is not None
    categories = unique_labels(
        {c: category_labels(scenario).get(c, c) for c in calc.categories}, taken=("Pathway", "Total", "Budget year")
    )
    g = _Grid()
    g.put(1, 1, "Budget calculator (live formulas)", "heading")
    notes = (
        "Change the yellow cells (plan, uptake by year): the budget by year, PMPM and difference are Excel formulas "
        "that reference them and recalculate.",
        f"Blue cells come from the model run of {scenario.name} (base case): the cost per patient of each pathway by "
        "year since entry and category, the cohort cost profile. Change them to try other costs; the pathway model "
        "itself is not rerun here.",
        "Grey cells are results of the model run that the formulas use as they are. With the values as written the "
        "results equal costspine bia (base case).",
        f"Money in {currency_note}.",
    )
    for i, note in enumerate(notes):
        g.put(2 + i, 1, note, "note")
    g.put(7, 1, "Legend:")
    g.put(7, 2, "input", "input")
    g.put(7, 3, "model run", "model")
    g.put(7, 4, "fixed", "fixed")
    g.put(7, 5, "live formula (bold: result)", "note")
    g.row = 9

    # ---- plan inputs
    g.put(g.row, 1, "Plan", "heading")
    g.row += 1
    plan = {}

    def plan_row(key, label, value, role, kind, decimals, note):
        plan[key] = cell_reference(g.row, 2, absolute=True)
        g.put(g.row, 1, label)
        g.put(g.row, 2, value, role, kind, decimals)
        if note:
            g.put(g.row, 3, note, "note")
        g.row += 1

    plan_row("members", "Members in year 1", calc.members, "input", "int", None, "")
    plan_row("growth", "Member growth a year", calc.growth, "input", "percent", 2, "")
    plan_row("rate", "New spine-pain episodes per 1,000 members a year", calc.rate_per_1000, "input", "number", 3, "")
    prevalent_group = next((grp for grp in calc.groups if grp.name == "prevalent"), None)
    if prevalent:
        label = prevalent_group.label
        structure = calc.prevalence
        overlap = structure.overlap_per_episode != 0
        plan_row(
            "gross",
            "Prevalent patients per 1,000 members",
            structure.gross,
            "input",
            "number",
            3,
            label
            + ("; counts those the acute model still follows" if overlap else "")
            + ("" if structure.follows_file else "; fixed: the file's prevalence and onset are not of the sheet's form"),
        )
        if overlap:
            plan_row(
                "overlap",
                "Per new episode a year, in the acute model",
                structure.overlap_per_episode,
                "input",
                "number",
                4,
                "prevalent patients per new episode a year still followed by the acute model (overlap)",
            )
        if structure.exit_hazard:
            plan_row(
                "exit",
                "Chronic group exit hazard a year",
                structure.exit_hazard,
                "input",
                "number",
                4,
                "recovery + death; steady state: onset = chronic group x this hazard",
            )
        if structure.other_onset or not structure.exit_hazard:
            plan_row(
                "other_onset",
                "Other onset per 1,000 members a year"
                if structure.exit_hazard
                else "New prevalent patients per 1,000 members a year",
                structure.other_onset,
                "input",
                "number",
                3,
                "onsets among members; members joining bring their own",
            )
        net = f"{plan['gross']}" + (f"-{plan['overlap']}*{plan['rate']}" if overlap else "")
        plan_row(
            "per_1000",
            "Chronic group per 1,000 members",
            f"={net}",
            "formula",
            "number",
            3,
            "prevalent patients less new episodes x overlap" if overlap else "",
        )
        onset = "+".join(
            ([f"{plan['per_1000']}*{plan['exit']}"] if structure.exit_hazard else [])
            + ([plan["other_onset"]] if "other_onset" in plan else [])
        )
        plan_row(
            "onset",
            "Onset per 1,000 members a year",
            f"={onset}",
            "formula",
            "number",
            3,
            "among members; members joining bring their own",
        )
    plan_row(
        "leave",
        "Members leaving the plan a year",
        calc.leave,
        "fixed",
        "percent",
        2,
        "it shapes the cost profile (patients who leave stop costing the plan), so it is fixed here",
    )
    plan_row("discount", "Discount rate a year (from year 2)", calc.discount_rate, "input", "percent", 2, "")
    if prevalent:
        plan["present"] = cell_reference(g.row, 2, absolute=True)
        g.put(g.row, 1, "Prevalent patients at the start of year 1")
        g.put(g.row, 2, f"={plan['members']}*{plan['per_1000']}/1000", "formula", "number", 0)
        g.row += 1
    g.row += 1

    # ---- results (formulas filled in once the input blocks below have addresses)
    g.put(g.row, 1, "Budget by year", "heading")
    g.row += 1
    headers = ["Year", "Members"]
    if prevalent:
        headers += ["Members joining"]
    headers += ["New episodes"]
    if prevalent:
        headers += ["New prevalent patients"]
    headers += ["Current budget", "New budget", "Difference", "PMPM current", "PMPM new", "PMPM difference"]
    col = {h: j + 1 for j, h in enumerate(headers)}
    g.line(*headers, role="header")
    first_year_row = g.row
    year_row = {y: first_year_row + y - 1 for y in years}
    total_row = first_year_row + n_years
    g.row = total_row + 2

    # ---- uptake by year, per group
    mix_cells = {}  # (group, world, year, strategy index) -> absolute reference
    for grp in calc.groups:
        labels = _strategy_labels(run, grp)
        g.put(g.row, 1, f"Uptake: share of {grp.label} by pathway (each year's shares sum to 100%)", "heading")
        g.row += 1
        heads = ["Year"] + [f"{labels[s]}, {w}" for w in WORLDS for s in grp.strategies] + ["Sum, current", "Sum, new"]
        g.line(*heads, role="header")
        for y in years:
            g.put(g.row, 1, y, "label", "int")
            j = 2
            for w in WORLDS:
                mix = getattr(grp, f"mix_{w}")
                for k in range(len(grp.strategies)):
                    mix_cells[grp.name, w, y, k] = cell_reference(g.row, j, absolute=True)
                    g.put(g.row, j, float(mix[y - 1, k]), "input", "percent", 1)
                    j += 1
            n = len(grp.strategies)
            for w_index in range(2):
                first, last = cell_reference(g.row, 2 + w_index * n), cell_reference(g.row, 1 + (w_index + 1) * n)
                g.put(g.row, j + w_index, f"=SUM({first}:{last})", "formula", "percent", 1)
            g.row += 1
        g.row += 1

    # ---- cost per patient, per group and world (one table for both worlds without a policy)
    cost_cells = {}  # (group, world, block, strategy index, entry year or 0, budget year) -> total cell
    for grp in calc.groups:
        labels = _strategy_labels(run, grp)
        worlds = (
            [("current", "current world"), ("new", f"new world (policy from year {grp.policy_start_year})")]
            if grp.has_policy
            else [("both", "current and new world")]
        )
        blocks = [("entering", "Cost per patient by year since entry")]
        if grp.ongoing is not None:
            blocks.append(("ongoing", "Ongoing care of episodes begun before year 1, per year-1 episode"))
        if grp.present is not None:
            blocks.append(("present", "Care of one patient present at the start of year 1"))
        for block, title in blocks:
            for world, world_label in worlds:
                source = "current" if world == "both" else world
                values = getattr(grp, block)[source]
                g.put(g.row, 1, f"{title}: {grp.label}, {world_label}", "heading")
                g.row += 1
                lead = ["Pathway", "Entered in year", "Year since entry (1 = entry year, 0 = year before)", "Budget year"]
                if block != "entering":
                    lead = ["Pathway", "Budget year"]
                g.line(*lead, *categories.values(), "Total", role="header")
                rows = [(0, y) for y in years]
                if block == "entering":
                    rows = [(j, y) for j in years for y in years if y >= j or (y == j - 1 and _early(grp, j))]
                for k, strategy in enumerate(grp.strategies):
                    for j, y in rows:
                        g.put(g.row, 1, labels[strategy])
                        keys = [j, y - j + 1, y] if block == "entering" else [y]
                        for m, v in enumerate(keys):
                            g.put(g.row, 2 + m, v, "label", "int")
                        start = 2 + len(keys)
                        row_values = values[j - 1, k, y - 1] if block == "entering" else values[k, y - 1]
                        for c in range(len(categories)):
                            g.put(g.row, start + c, float(row_values[c]), "model", "currency", 2)
                        total = g.put(
                            g.row,
                            start + len(categories),
                            f"=SUM({cell_reference(g.row, start)}:{cell_reference(g.row, start + len(categories) - 1)})",
                            "formula",
                            "currency",
                            2,
                        )
                        for w in WORLDS if world == "both" else (world,):
                            cost_cells[grp.name, w, block, k, j, y] = "$" + total.rstrip("0123456789") + "$" + str(g.row)
                        g.row += 1
                g.row += 1

    # ---- the results' formulas
    def members(y):
        return cell_reference(year_row[y], col["Members"], absolute=True)

    for y in years:
        r = year_row[y]
        g.put(r, col["Year"], y, "label", "int")
        g.put(
            r,
            col["Members"],
            f"={plan['members']}" if y == 1 else f"={cell_reference(r - 1, col['Members'])}*(1+{plan['growth']})",
            "formula",
            "int",
        )
        if prevalent:
            previous = f"{members(1)}/(1+{plan['growth']})" if y == 1 else members(y - 1)
            g.put(
                r,
                col["Members joining"],
                f"=MAX({members(y)}*(-LN(1-{plan['leave']}))+{members(y)}-{previous},0)",
                "formula",
                "number",
                0,
            )
            g.put(
                r,
                col["New prevalent patients"],
                f"=({members(y)}*{plan['onset']}+{cell_reference(r, col['Members joining'])}*{plan['per_1000']})/1000",
                "formula",
                "number",
                0,
            )
        g.put(r, col["New episodes"], f"={members(y)}*{plan['rate']}/1000", "formula", "number", 0)
        for w, head in zip(WORLDS, ("Current budget", "New budget")):
            terms = []
            for grp in calc.groups:
                n = len(grp.strategies)
                count_col = col["New episodes"] if grp.name == "acute" else col["New prevalent patients"]
                for j in [j for j in years if j <= y or (j == y + 1 and _early(grp, j))]:
                    count = cell_reference(year_row[j], count_col, absolute=True)
                    terms.append(
                        _terms(
                            count,
                            [(mix_cells[grp.name, w, j, k], cost_cells[grp.name, w, "entering", k, j, y]) for k in range(n)],
                        )
                    )
                if grp.ongoing is not None:
                    count = cell_reference(year_row[1], count_col, absolute=True)
                    terms.append(
                        _terms(
                            count,
                            [
                                (mix_cells[grp.name, "current", 1, k], cost_cells[grp.name, w, "ongoing", k, 0, y])
                                for k in range(n)
                            ],
                        )
                    )
                if grp.present is not None:
                    terms.append(
                        _terms(
                            plan["present"],
                            [(mix_cells[grp.name, w, 1, k], cost_cells[grp.name, w, "present", k, 0, y]) for k in range(n)],
                        )
                    )
            formula = "=(" + "+".join(terms) + ")" + (f"/(1+{plan['discount']})^{y - 1}" if y > 1 else "")
            g.put(r, col[head], formula, "result", "currency")
        current, new = cell_reference(r, col["Current budget"]), cell_reference(r, col["New budget"])
        g.put(r, col["Difference"], f"={new}-{current}", "result", "currency")
        for head, money in (
            ("PMPM current", current),
            ("PMPM new", new),
            ("PMPM difference", cell_reference(r, col["Difference"])),
        ):
            g.put(r, col[head], f"={money}/({members(y)}*12)", "result", "currency", 2)
    r = total_row
    g.put(r, 1, "Total", "label")

    def column_sum(head):
        return f"SUM({cell_reference(first_year_row, col[head])}:{cell_reference(total_row - 1, col[head])})"

    for head in headers[1:]:
        if head.startswith("PMPM"):
            money = {"PMPM current": "Current budget", "PMPM new": "New budget", "PMPM difference": "Difference"}[head]
            g.put(r, col[head], f"={column_sum(money)}/(12*{column_sum('Members')})", "result", "currency", 2)
        else:
            kind = (
                ("int", None)
                if head == "Members"
                else ("currency", None)
                if "udget" in head or head == "Difference"
                else ("number", 0)
            )
            g.put(r, col[head], f"={column_sum(head)}", "result", *kind)
    widths = {1: LABEL_WIDTH, **{j: NUMBER_WIDTH for j in range(2, 3 + max(len(headers), len(categories) + 5))}}
    return FormulaSheet(SHEET_NAME, tuple(g.cells), widths)


def _early(group, j: int) -> bool:
    """Whether patients entering in year ``j`` cost anything in year ``j − 1``: the model's cycles do not
    divide the year, so those arriving in a cycle that starts before the new year enter at its start."""
    return j > 1 and any(bool((group.entering[w][j - 1, :, j - 2] != 0).any()) for w in WORLDS)


def _strategy_labels(run, group) -> dict:
    model = run.scenario if group.name == "acute" else run.spec.prevalent.scenario
    return unique_labels({s: model.strategy_labels.get(s, s) for s in group.strategies})
