"""Prices a scenario uses: catalogue items at the scenario's price year and payer basis
(:func:`resolve_unit_prices`), the ``[unit_costs]`` section as parameters
(:func:`build_price_parameters`), and fee cuts with a supply response.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from costspine._files import input_file_sha256, resolve_path
from costspine.catalogue.tables import (
    ALWAYS_PRICED_SETTINGS,
    CURRENCY,
    SETTINGS,
    UNVERIFIED_STATUSES,
    Catalogue,
    CatalogueItem,
    CpiTable,
    PayerMultipliers,
    _suggest,
    _year_span,
    load_catalogue,
    load_cpi,
    load_payer_multipliers,
)
from costspine.errors import ScenarioError, UsageError
from costspine.problems import Collector, collector_at

UNIT_COSTS_KEYS = ("payer", "price_year", "items", "catalogue")


@dataclass(frozen=True)
class ResolvedPrice:
    """One item's price in a price year for a payer, with every adjustment spelled out.

    ``price = base_price × inflation_factor × payer_multiplier`` (in ``currency`` of ``price_year``).
    """

    item: str
    code: str
    category: str
    setting: str
    payer_basis: str
    base_price: float
    base_year: int
    price_year: int
    inflation_factor: float
    payer: str
    payer_multiplier: float
    price: float
    sd_fraction: float
    status: str
    source: str
    currency: str = CURRENCY


def inflation_factor(from_year: int, to_year: int, *, cpi: CpiTable) -> float:
    """Return the CPI-U medical care ratio that moves a price from ``from_year`` to ``to_year``.

    Parameters
    ----------
    from_year, to_year : int
        Price years; both must be in ``cpi``.
    cpi : CpiTable

    Returns
    -------
    float
        ``index[to_year] / index[from_year]`` (1 when the years are equal).

    Raises
    ------
    UsageError
        A year is not in the table; the message lists the available years.

    Examples
    --------
    >>> cpi = load_cpi()
    >>> round(inflation_factor(2023, 2025, cpi=cpi), 6)  # 580.498 / 549.084
    1.057212
    """
    return cpi.row(to_year).index / cpi.row(from_year).index


_MISSING = object()


def _check_request(
    c: Collector,
    keypath: str,
    catalogue: Catalogue | None,
    items,
    *,
    price_year,
    payer,
    multipliers: PayerMultipliers,
    cpi: CpiTable,
) -> bool:
    """Add the problems of a price request under ``keypath`` (e.g. ``unit_costs``) to ``c``.

    Arguments that are ``_MISSING`` are not checked (their absence is reported by the caller);
    without a ``catalogue`` the item ids are checked for type and duplicates only. Returns False
    when the payer, the price year or the item list is unusable (bad single items still let the
    other items resolve).
    """
    ok = True
    if payer is not _MISSING and (not isinstance(payer, str) or payer not in multipliers.payers):
        c.add(
            f"{keypath}.payer",
            f"expected one of {', '.join(map(repr, multipliers.payers))}; "
            f"got {payer!r}{_suggest(str(payer), multipliers.payers)}",
        )
        ok = False
    if price_year is _MISSING:
        pass
    elif isinstance(price_year, bool) or not isinstance(price_year, int):
        c.add(f"{keypath}.price_year", f"expected a whole year such as 2025; got {price_year!r}")
        ok = False
    elif price_year not in cpi.years:
        c.add(
            f"{keypath}.price_year",
            f"no CPI-U medical care index for {price_year} in {cpi.path}; "
            f"available years: {_year_span(cpi.years)} — use one of these (and the same year as "
            "settings.price_year)",
        )
        ok = False
    if items is _MISSING:
        return ok
    if isinstance(items, str) or not isinstance(items, (list, tuple)):
        hint = f' — wrap it in a list: items = ["{items}"]' if isinstance(items, str) else ""
        c.add(f"{keypath}.items", f"expected a list of catalogue item ids; got {items!r}{hint}")
        return False
    if not items:
        c.add(f"{keypath}.items", "expected at least one catalogue item id; got an empty list")
        ok = False
    seen = set()
    for i, item in enumerate(items):
        key = f"{keypath}.items[{i}]"
        if not isinstance(item, str):
            c.add(key, f"expected a catalogue item id (text); got {item!r}")
        elif item in seen:
            c.add(key, f"{item!r} is listed twice; list each item once")
        elif catalogue is not None and item not in catalogue:
            hint = _suggest(item, catalogue.items) or f" — the ids are the 'item' column of {catalogue.path}"
            c.add(key, f"unknown catalogue item {item!r}{hint}")
        if isinstance(item, str):
            seen.add(item)
    return ok


def _inflation_text(row: CatalogueItem, price_year: int, factor: float, cpi: CpiTable) -> str:
    """How a row's price was moved to ``price_year``, flagging unverified CPI values."""
    years = dict.fromkeys((row.price_year, price_year))
    shaky = [f"CPI {y} {cpi.row(y).status}" for y in years if cpi.row(y).status in UNVERIFIED_STATUSES]
    note = f" ({'; '.join(shaky)})" if shaky else ""
    return f"{row.price_year} USD -> {price_year} USD by CPI-U medical care x{factor:.4f}{note}"


def resolve_unit_prices(
    catalogue: Catalogue, items, *, price_year: int, payer: str, multipliers: PayerMultipliers, cpi: CpiTable
) -> list[ResolvedPrice]:
    """Resolve catalogue items to prices in ``price_year`` dollars for ``payer``.

    Parameters
    ----------
    catalogue : Catalogue
    items : list of str
        Catalogue item ids, e.g. ``["mri_lumbar", "pt_evaluation"]``.
    price_year : int
        Target year; must be in ``cpi``.
    payer : str
        A payer of ``multipliers`` (``"medicare"`` or ``"commercial"`` in the bundled file).
    multipliers : PayerMultipliers
    cpi : CpiTable

    Returns
    -------
    list of ResolvedPrice
        In the order of ``items``; prices in ``currency`` (USD) of ``price_year``.

    Raises
    ------
    UsageError
        Every problem at once: unknown or duplicated items (with the closest ids), unknown payer,
        price year not in the CPI table.

    Notes
    -----
    ``price = catalogue price × CPI[price_year] / CPI[base_year] × m``, where ``m`` is the payer's
    multiplier for the item's setting (``office`` → physician ratio, ``facility`` → hospital ratio,
    ``asc`` → ambulatory-surgery-centre ratio) and ``m = 1`` for ``cash`` items.

    Examples
    --------
    >>> cpi, catalogue, mult = load_cpi(), load_catalogue(), load_payer_multipliers()
    >>> [p] = resolve_unit_prices(catalogue, ["mri_lumbar"], price_year=2025, payer="commercial", multipliers=mult, cpi=cpi)
    >>> round(p.price, 2)  # 188.26 × 1.43
    269.21
    """
    c = Collector()
    _check_request(c, "unit prices", catalogue, items, price_year=price_year, payer=payer, multipliers=multipliers, cpi=cpi)
    if c.problems:
        raise UsageError("cannot resolve unit prices:\n" + "\n".join(f"  - {p}" for p in c.problems))
    resolved = []
    for item in items:
        row = catalogue.get(item)
        factor = inflation_factor(row.price_year, price_year, cpi=cpi)
        cash = row.payer_basis == "cash"
        mult = 1.0 if cash else multipliers.get(payer, row.setting).multiplier
        adjust = (
            _inflation_text(row, price_year, factor, cpi)
            + "; "
            + ("cash price, no payer multiplier" if cash else f"payer {payer} {row.setting} multiplier x{mult:g}")
        )
        resolved.append(
            ResolvedPrice(
                item=item,
                code=row.code,
                category=row.category,
                setting=row.setting,
                payer_basis=row.payer_basis,
                base_price=row.price,
                base_year=row.price_year,
                price_year=price_year,
                inflation_factor=factor,
                payer=payer,
                payer_multiplier=mult,
                price=row.price * factor * mult,
                sd_fraction=row.sd_fraction,
                status=row.status,
                source=f"{row.source} [{row.status}]; {adjust}",
            )
        )
    return resolved


def _price_table(value: float, sd_fraction: float, source: str) -> dict:
    if sd_fraction == 0:
        return {"value": value, "distribution": "fixed", "source": source}
    return {"value": value, "distribution": "gamma", "mean": value, "sd": value * sd_fraction, "source": source}


def build_price_parameters(
    section,
    *,
    where: str = "unit_costs",
    base_dir: str | Path | None = None,
    cpi: CpiTable | None = None,
    multipliers: PayerMultipliers | None = None,
    collector: Collector | None = None,
) -> tuple[dict, list]:
    """Turn a scenario's ``[unit_costs]`` section into scenario parameter tables.

    Parameters
    ----------
    section : dict
        The parsed section: ``payer`` (str), ``price_year`` (int), ``items`` (list of catalogue
        ids) and optionally ``catalogue`` (path to an alternative catalogue CSV).
    where : str
        Key path of the section for messages, e.g. ``"scenarios/x.toml: unit_costs"`` (unused with
        ``collector``).
    base_dir : str or Path, optional
        Folder that a relative ``catalogue`` path is resolved against (the folder of the scenario
        file that declares ``catalogue``).
    cpi, multipliers : optional
        Tables to use instead of the bundled ``cpi_medical.csv`` and ``payer_multipliers.csv``.
    collector : Collector, optional
        The scenario reader's collector: problems are added to it under ``unit_costs.*``, each
        naming the file that declares its key.

    Returns
    -------
    parameters : dict of str to dict
        ``[parameters.NAME]`` tables (see the module docstring): ``payer_multiplier_office``,
        ``payer_multiplier_facility`` (and ``payer_multiplier_asc`` when an ``asc`` item is
        requested), then per item ``price_<item>`` (and ``price_base_<item>``
        when a payer multiplier applies), in the order of ``items``. Empty if the payer, the price
        year or the catalogue is unusable; otherwise holds every item that resolved.
    problems : list of Problem
        Every problem found (empty when the section is valid): unknown keys, unknown payer, price
        year not in the CPI table, unknown or duplicated items (naming the closest ids), a missing
        or invalid catalogue file. The caller raises them with the rest of the scenario's problems
        (with ``collector``, they are already in it).

    Examples
    --------
    >>> params, problems = build_price_parameters(
    ...     {"payer": "medicare", "price_year": 2025, "items": ["mri_lumbar"]}, where="x.toml: unit_costs"
    ... )
    >>> params["price_mri_lumbar"]["distribution"], params["price_mri_lumbar"]["mean"], problems
    ('gamma', 188.26, [])
    """
    c, keypath = (collector, "unit_costs") if collector is not None else collector_at(where)
    start = len(c.problems)
    if not isinstance(section, dict):
        c.add(keypath, f"expected a table with keys {', '.join(UNIT_COSTS_KEYS)}; got {section!r}")
        return {}, c.problems[start:]
    for key in section:
        if key not in UNIT_COSTS_KEYS:
            hint = _suggest(str(key), UNIT_COSTS_KEYS) or f"; allowed keys: {', '.join(UNIT_COSTS_KEYS)}"
            c.add(f"{keypath}.{key}", f"unknown key{hint}")
    examples = {"payer": '"medicare" or "commercial"', "price_year": "2025", "items": '["mri_lumbar", "pt_evaluation"]'}
    ok = True
    for key, example in examples.items():
        if key not in section:
            c.add(f"{keypath}.{key}", f"missing; e.g. {key} = {example}")
            ok = False
    cpi = cpi if cpi is not None else load_cpi()
    multipliers = multipliers if multipliers is not None else load_payer_multipliers()
    catalogue = None
    raw_path = section.get("catalogue")
    if "catalogue" not in section:
        catalogue = load_catalogue(cpi=cpi)
    elif not isinstance(raw_path, str) or not raw_path:
        c.add(f"{keypath}.catalogue", f"expected a path to a catalogue CSV; got {raw_path!r}")
    else:
        path = resolve_path(raw_path, base_dir=base_dir if base_dir is not None else ".")
        if not path.exists() and not path.is_symlink():
            c.add(
                f"{keypath}.catalogue",
                f"file not found: {path} (a relative path is resolved against the folder of "
                "the file that declares it); fix the path or drop the key to use the bundled catalogue",
            )
        else:
            try:
                catalogue = load_catalogue(path, cpi=cpi)
            except ScenarioError as error:  # the catalogue's own problems, kept with their file:line
                c.extend(error.problems)
    if collector is not None:  # provenance: every table the prices come from
        for table in (cpi, multipliers, catalogue):
            if table is not None:
                c.record_file(table.path, input_file_sha256(table.path))
    payer, price_year, items = (section.get(k, _MISSING) for k in ("payer", "price_year", "items"))
    ok = _check_request(c, keypath, catalogue, items, price_year=price_year, payer=payer, multipliers=multipliers, cpi=cpi) and ok
    problems = c.problems[start:]
    # Bad items and unknown keys still let the other items resolve; anything else blocks them all.
    if catalogue is None or not ok:
        return {}, problems
    valid = list(dict.fromkeys(i for i in items if isinstance(i, str) and i in catalogue))
    used = {catalogue.get(i).setting for i in valid}
    params = {
        f"payer_multiplier_{s}": multipliers.get(payer, s).to_parameter()
        for s in SETTINGS
        if s in ALWAYS_PRICED_SETTINGS or s in used
    }
    resolved = (
        resolve_unit_prices(catalogue, valid, price_year=price_year, payer=payer, multipliers=multipliers, cpi=cpi)
        if valid
        else []
    )
    for price in resolved:
        name = f"price_{price.item}"
        mult = multipliers.get(payer, price.setting)
        if price.payer_basis == "cash" or (mult.distribution == "fixed" and mult.multiplier == 1):
            params[name] = _price_table(price.price, price.sd_fraction, price.source)
            continue
        row = catalogue.get(price.item)
        base = price.base_price * price.inflation_factor
        base_source = (
            f"{row.source} [{row.status}]; {_inflation_text(row, price_year, price.inflation_factor, cpi)}; "
            "Medicare amount before the payer multiplier"
        )
        params[f"price_base_{price.item}"] = _price_table(base, price.sd_fraction, base_source)
        params[name] = {
            "value": f"price_base_{price.item} * payer_multiplier_{price.setting}",
            "source": (
                f"derived: price_base_{price.item} x payer_multiplier_{price.setting} "
                f"(payer {payer}, {price.setting} multiplier {mult.multiplier:g} [{mult.status}])"
            ),
        }
    return params, problems


def _check_cut(cut_fraction) -> np.ndarray:
    cut = np.asarray(cut_fraction, dtype=float)
    bad = ~((cut >= 0) & (cut <= 1))
    if bad.any():
        first = cut[bad].flat[0]
        at = f" at index {tuple(int(i) for i in np.argwhere(bad)[0])}" if cut.ndim else ""
        hint = f" — fractions, not percent: did you mean {first / 100:g}?" if 1 < first <= 100 else ""
        raise UsageError(
            f"cut_fraction must be in [0, 1] (0.2 = a 20% fee cut); got {first:g}{at}"
            f" ({int(bad.sum())} bad value{'s' if bad.sum() > 1 else ''}){hint}"
        )
    return cut


def _scalar_or_array(values: np.ndarray):
    return float(values) if values.ndim == 0 else values


def apply_price_cut(price, cut_fraction):
    """Return the price after a fee cut: ``price × (1 − cut_fraction)``.

    Parameters
    ----------
    price : float or array_like
        Unit price(s), >= 0, any currency.
    cut_fraction : float or array_like
        Fractional fee cut in [0, 1] (0.2 = 20% lower fee); broadcast against ``price``.

    Returns
    -------
    float or numpy.ndarray
        A float when both arguments are scalars, else the broadcast array.

    Raises
    ------
    UsageError
        A cut outside [0, 1] or NaN (named with its index), or a negative or non-finite price.

    Examples
    --------
    >>> round(apply_price_cut(246.80, 0.25), 2)
    185.1
    """
    cut = _check_cut(cut_fraction)
    price = np.asarray(price, dtype=float)
    if not np.all(np.isfinite(price) & (price >= 0)):
        raise UsageError(f"price must be finite and >= 0; got {price[~(np.isfinite(price) & (price >= 0))].flat[0]!r}")
    return _scalar_or_array(price * (1.0 - cut))


def volume_multiplier(cut_fraction, elasticity):
    """Return the change in service volume after a fee cut, ``(1 − cut_fraction) ** elasticity``.

    Parameters
    ----------
    cut_fraction : float or array_like
        Fractional fee cut in [0, 1].
    elasticity : float or array_like
        Elasticity of supplied volume to the fee (broadcast against ``cut_fraction``, e.g. one
        value per PSA draw). Positive: providers supply less when paid less. Zero: volume does not
        respond. Negative: an *income effect* — providers raise volume to recoup lost income
        (``-1`` keeps their spending constant).

    Returns
    -------
    float or numpy.ndarray
        Volume after the cut relative to before (1 = unchanged).

    Raises
    ------
    UsageError
        A cut outside [0, 1] or NaN; a non-finite elasticity; or ``cut_fraction == 1`` with a
        negative elasticity, where ``0 ** elasticity`` diverges (an income effect cannot be
        extrapolated to abolishing the fee).

    Notes
    -----
    Constant-elasticity supply: ``V1 / V0 = (P1 / P0) ** e`` with ``P1 / P0 = 1 − cut``; spending
    changes by ``(1 − cut) ** (1 + e)``. With ``cut == 1``: volume 0 for ``e > 0`` and 1 for
    ``e == 0``.

    Clemens & Gottlieb (2014) found a 2% rise in Medicare payment raised care provided by 3%, an
    elasticity of about 1.5, with elective procedures responding about twice as much (evidence
    T8.01; 2.5 in the 2012 working paper, T8.02). No spine-injection-specific estimate was found
    (T8.06). Negative elasticities describe target-income behaviour, e.g. thoracic surgeons recouping
    ~70% of a fee cut's income loss through volume (Yip 1998, evidence T8.03). The elasticity is a
    scenario parameter; this function holds no default.

    References
    ----------
    Clemens J, Gottlieb JD. Do physicians' financial incentives affect medical treatment and patient
    health? Am Econ Rev 2014;104(4):1320-1349.

    Examples
    --------
    >>> round(volume_multiplier(0.02, 1.5), 4)  # a 2% cut: ~3% less care
    0.9702
    >>> round(volume_multiplier(0.2, -0.5), 4)  # income effect: more volume
    1.118
    """
    cut = _check_cut(cut_fraction)
    e = np.asarray(elasticity, dtype=float)
    if not np.all(np.isfinite(e)):
        raise UsageError(f"elasticity must be finite; got {e[~np.isfinite(e)].flat[0]!r}")
    cut, e = np.broadcast_arrays(cut, e)
    diverges = (cut == 1) & (e < 0)
    if diverges.any():
        at = f" at index {tuple(int(i) for i in np.argwhere(diverges)[0])}" if cut.ndim else ""
        raise UsageError(
            f"volume_multiplier diverges for cut_fraction = 1 with a negative elasticity{at} "
            f"(got elasticity {e[diverges].flat[0]:g}): (1 - 1) ** e is infinite when e < 0 — an income "
            "effect cannot offset abolishing the fee; use cut_fraction < 1 or an elasticity >= 0"
        )
    with np.errstate(divide="ignore"):
        return _scalar_or_array(np.power(1.0 - cut, e))
