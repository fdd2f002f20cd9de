"""The inputs a workbook shows: the parameter table, the resolved unit prices and the About sheet.

Example
-------
>>> build_about({"command": "run", "argv": ["/usr/bin/costspine", "run", "a b.toml"]})["Command line"]
"costspine run 'a b.toml'"
"""

from __future__ import annotations

from pathlib import Path

from costspine._text import format_significant
from costspine.reports.wording import one_line
from costspine.reports.workbook import Column, Table

VALUE_DECIMALS = 4  # parameter values on the Inputs sheet (the cell keeps every digit)


# ---------------------------------------------------------------------------------------- inputs


def resolve_scenario_prices(scenario) -> list:
    """Resolved unit prices of a scenario's ``[unit_costs]`` section (empty list without one).

    Uses the same catalogue, CPI table and payer multipliers as the scenario loader, so each
    price equals the base case of its ``price_<item>`` parameter.
    """
    section = scenario.sections.get("unit_costs")
    if not section:
        return []
    from costspine.catalogue.prices import resolve_unit_prices
    from costspine.catalogue.tables import (
        load_catalogue,
        load_cpi,
        load_payer_multipliers,
    )

    cpi = load_cpi()
    path = section.get("catalogue")
    if path is not None:
        path = Path(path)
        if not path.is_absolute():
            path = Path(scenario.path).parent / path  # as the loader resolves it
    catalogue = load_catalogue(path, cpi=cpi)
    items = list(dict.fromkeys(section["items"]))
    return resolve_unit_prices(
        catalogue, items, price_year=section["price_year"], payer=section["payer"], multipliers=load_payer_multipliers(), cpi=cpi
    )


UNIT_PRICE_COLUMNS = (
    Column("Item"),
    Column("Parameter"),
    Column("Code"),
    Column("Category"),
    Column("Setting"),
    Column("Payer basis"),
    Column("Catalogue price", "currency", decimals=2),
    Column("Catalogue year", "year"),
    Column("CPI factor", "number", decimals=4),
    Column("Price year", "year"),
    Column("Payer"),
    Column("Payer multiplier", "number", decimals=3),
    Column("Unit price", "currency", decimals=2),
    Column("Status"),
    Column("Source"),
)


def unit_price_row(price, used: float | None = None) -> tuple:
    """One row of the unit-price table; ``used`` is the value the model uses when a scenario (or an
    edited workbook) sets ``price_<item>`` itself, shown as the unit price with the status saying so."""
    overridden = used is not None and used != price.price
    return (
        price.item,
        f"price_{price.item}",
        price.code,
        price.category,
        price.setting,
        price.payer_basis,
        price.base_price,
        price.base_year,
        price.inflation_factor,
        price.price_year,
        price.payer,
        price.payer_multiplier,
        used if overridden else price.price,
        f"set in the scenario (catalogue {price.price:,.2f})" if overridden else price.status,
        price.source,
    )


def build_unit_price_table(scenario) -> Table | None:
    """Unit prices by item with catalogue price and year, CPI factor, payer multiplier and the result."""
    prices = resolve_scenario_prices(scenario)
    if not prices:
        return None
    specs = {spec.name: spec for spec in scenario.parameters}

    def used(price):
        spec = specs.get(f"price_{price.item}")
        return float(spec.value) if spec is not None and spec.family != "derived" and spec.value is not None else None

    return Table(
        "unit_prices",
        UNIT_PRICE_COLUMNS,
        [unit_price_row(p, used(p)) for p in prices],
        title="Unit prices: catalogue price × CPI factor × payer multiplier",
    )


PARAMETER_COLUMNS = (
    Column("Parameter"),
    Column("Value", "number", decimals=VALUE_DECIMALS),
    Column("Distribution"),
    Column("Arguments"),
    Column("Source"),
)


def cell_value(value):
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else float(value)


HELD_TEXT = "held at the value the calibration used"


def build_parameter_table(scenario, posterior=()) -> Table:
    """Every parameter of ``scenario`` with its base-case value, distribution, arguments and source.

    Parameters
    ----------
    scenario : Scenario
    posterior : sequence of dict
        A PSA's posterior provenance (:func:`costspine.bayes.posterior.load_posterior_pools`). A
        parameter sampled as whole posterior rows then reads "posterior (joint)" with its posterior
        median and 95% interval, and one held at the calibration's value reads
        :data:`HELD_TEXT` with that value, instead of the base case's own distribution (which the
        PSA does not sample).
    """
    from costspine.reports.run_summary import scenario_parameter_rows

    described = _posterior_descriptions(posterior)
    rows = [
        (name, cell_value(value), *described.get(name, (family, args)), source)
        for name, value, family, args, source in scenario_parameter_rows(scenario)
    ]
    return Table("parameters", PARAMETER_COLUMNS, rows, title="Parameters (base-case values)")


def _posterior_descriptions(posterior) -> dict[str, tuple[str, str]]:
    """``{parameter: (distribution text, arguments text)}`` for the parameters a posterior pool decides."""
    out = {}
    for pool in posterior or ():
        evidence = Path(pool["evidence"]).name
        rows = pool.get("posterior_draws")
        for name, (median, low, high) in (pool.get("summary") or {}).items():
            out[name] = (
                "posterior (joint)",
                f"median {format_significant(median)}, 95% interval {format_significant(low)} to {format_significant(high)}; "
                f"whole rows of {rows:,} posterior draws of the calibration to {evidence}",
            )
        for name, value in (pool.get("held_values") or {}).items():
            out[name] = (HELD_TEXT, f"{value:.6g} (calibration to {evidence})")
    return out


# ---------------------------------------------------------------------------------------- about


def build_about(manifest: dict) -> dict[str, str]:
    """The About sheet's rows from a manifest (:func:`costspine.reports.manifest.build_manifest`)."""
    import shlex

    argv = list(manifest.get("argv") or [])
    if argv:
        argv[0] = Path(argv[0]).name
    seed = manifest.get("seed")
    about = {
        "costspine version": str(manifest.get("costspine_version", "")),
        "Command": str(manifest.get("command", "")),
        "Command line": shlex.join(str(a) for a in argv),
        "Seed": "none (deterministic)" if seed is None else str(seed),
        "Started (UTC)": str(manifest.get("started", "")),
    }
    if "perspective" in manifest:
        about["Perspective"] = str(manifest["perspective"])
    for i, entry in enumerate(manifest.get("inputs", []), start=1):
        about[f"Input {i}"] = f"{entry['path']}\nSHA-256 {entry['sha256']}"
    for i, edit in enumerate(manifest.get("input_edits", []), start=1):
        text = f"{edit['parameter']}: {edit['field']} {edit['old']} → {edit['new']} ({edit['workbook']}, {edit['cell']})"
        about[f"Edited input {i}"] = one_line(text + (f"; {edit['note']}" if edit.get("note") else ""))
    about["Outputs"] = ", ".join(manifest.get("outputs", []))
    about["Python"] = str(manifest.get("python", ""))
    about["Platform"] = str(manifest.get("platform", ""))
    deps = manifest.get("dependencies", {})
    about["Dependencies"] = ", ".join(f"{name} {version}" for name, version in deps.items())
    known = {
        "costspine_version",
        "command",
        "argv",
        "seed",
        "started",
        "finished",
        "inputs",
        "outputs",
        "input_edits",
        "python",
        "platform",
        "dependencies",
        "perspective",
    }
    for key, value in manifest.items():
        if key not in known:
            about[one_line(key)] = value if isinstance(value, str) else repr(value)
    return about
