"""Output folder of ``costspine individualised``: value table, decision table, summary.json, workbook."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from costspine._files import write_csv, write_json
from costspine.reports.manifest import build_manifest
from costspine.reports.workbook import Column, Sheet, Table, Workbook

VALUE_COLUMNS = ["measure", "per_patient", "low", "high", "plan_total"]
DECISION_COLUMNS = ["group", "share", "best_treatment", "prob_best", "nb_best", "nb_lost_one_size"]


def build_individualised_workbook(result, *, description: str = "") -> Workbook:
    """The workbook of a value-of-individualised-care result (checked on construction).

    Parameters
    ----------
    result : IndividualisedResult
        From :func:`costspine.analysis.individualised.analyze_individualised`.
    description : str
        The scenario's description, shown under the title.
    """
    c = result.currency
    label = result.strategy_labels.get
    value = Table(
        "value",
        (
            Column("measure"),
            Column("NMB per patient", "currency"),
            Column("2.5%", "currency"),
            Column("97.5%", "currency"),
            Column("plan total", "currency"),
        ),
        [tuple(r[k] for k in VALUE_COLUMNS) for r in result.headline()],
        title=f"Value of individualised care at {result.wtp:,.0f} {c} per {result.effect}",
    )
    breakeven = Table(
        "breakeven",
        (Column("allocation"), Column("break-even phenotyping cost per patient", "currency")),
        [("oracle (best treatment per group)" if k == "oracle" else label(k, k), v) for k, v in result.breakeven().items()],
        title="Most a payer could spend on phenotyping per patient and break even",
    )
    decision = Table(
        "decision",
        (
            Column("group"),
            Column("share", "percent"),
            Column("best treatment"),
            Column("probability best", "probability"),
            Column("NB of best", "currency"),
            Column("NB lost by one size for all", "currency"),
        ),
        [
            (
                r["group"],
                r["share"],
                label(r["best_treatment"], r["best_treatment"]),
                r["prob_best"],
                r["nb_best"],
                r["nb_lost_one_size"],
            )
            for r in result.decision_table()
        ],
        title="Decision table by phenotype (expected net benefit per patient)",
    )
    population = Table(
        "policies",
        (Column("strategy"), Column("population NB per patient", "currency")),
        [(label(s, s), float(result.nb_population[:, k].mean())) for k, s in enumerate(result.strategies)]
        + [("oracle (best treatment per group)", float(result.nb_oracle.mean()))],
        title="Expected population net benefit per patient of each allocation",
    )
    kind = (
        f"{result.draws} PSA draws (seed {result.seed}); intervals are 2.5% and 97.5% points"
        if result.draws
        else "base case only (run with --draws for intervals and probabilities)"
    )
    if result.draws_from:
        kind += f", the parameter draws of the PSA in {result.draws_from}"
    if result.method == "microsim":
        kind += (
            f"; microsimulation of {result.individuals:,} individuals per draw, phenotypes sampled from their "
            "prevalences (each group's net benefit carries Monte Carlo error)"
        )
    else:
        kind += "; one cohort per phenotype group"
    best = label(result.best_overall, result.best_overall)
    evic = float(result.evic.mean())
    reading = [
        f"Giving every patient the same first treatment is best with {best}.",
        f"Choosing the best treatment for each phenotype group is worth {evic:,.0f} {c} per patient more "
        f"(the expected value of individualised care, Basu & Meltzer 2007): the most phenotyping may cost "
        f"per patient and break even.",
        f"Basis: {kind}.",
    ]
    sheets = [
        Sheet("Value", (value, breakeven, population)),
        Sheet(
            "Decision table",
            (decision,),
            notes=(
                "Best treatment: highest expected net benefit in the group. Probability best: share of "
                "draws in which it is best. NB lost: expected net benefit per patient of the group given "
                "up by the one-size-fits-all treatment.",
            ),
        ),
    ]
    return Workbook(
        f"{result.scenario_name}: value of individualised care",
        description or result.title,
        c,
        reading,
        value.renamed("headline"),
        None,
        None,
        sheets,
        {},
    )


def write_individualised_report(result, scenario, *, out_dir: Path, xlsx: Path, argv: list[str], started: datetime) -> list[Path]:
    """Write ``value.csv``, ``decision_table.csv``, ``summary.json``, ``manifest.json`` into ``out_dir``
    and the workbook to ``xlsx``; return the files written (the workbook is built first)."""
    from costspine.reports.build import output_name, with_about
    from costspine.reports.excel import write_workbook

    out_dir = Path(out_dir)
    book = build_individualised_workbook(result, description=scenario.description)
    written = [
        write_csv(out_dir / "value.csv", VALUE_COLUMNS, ([r[k] for k in VALUE_COLUMNS] for r in result.headline())),
        write_csv(
            out_dir / "decision_table.csv", DECISION_COLUMNS, ([r[k] for k in DECISION_COLUMNS] for r in result.decision_table())
        ),
        write_json(out_dir / "summary.json", result.to_dict()),
    ]
    manifest = build_manifest(
        command="individualised",
        argv=list(argv),
        inputs=list(scenario.files),
        seed=result.seed,
        started=started,
        outputs=[str(p.relative_to(out_dir)) for p in written] + [output_name(xlsx, out_dir)],
    )
    write_workbook(with_about(book, manifest), xlsx)
    write_json(out_dir / "manifest.json", manifest)
    return written
