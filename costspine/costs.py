"""Unit-cost catalogue, price year and payer adjustment, and fee-policy changes.

Three data files under ``costspine/data/`` hold every number this module uses (each row with its
``source`` and verification ``status``; see ``docs/unit-costs.md``):

``unit_costs.csv``
    one row per billable item: code, category, setting (``office`` or ``facility``), price, the
    price's year, its payer basis (``medicare`` fee-schedule amount or ``cash`` price) and the
    relative SD used for its gamma distribution in PSA.
``cpi_medical.csv``
    CPI-U medical care annual averages, used to move a price from its year to the scenario's.
``payer_multipliers.csv``
    price ratios of a payer to Medicare, per setting, with a distribution for PSA.

A resolved price is ``price × CPI[price_year] / CPI[base_year] × multiplier[payer, setting]``;
``cash`` items are never multiplied (a cash price is what every payer pays).

Setting → multiplier mapping
----------------------------
``office`` items are professional services paid on the physician fee schedule at the non-facility
(office) rate, so they take the payer's *physician* ratio (commercial: evidence T4.54).
``facility`` items are hospital bundles — the professional fee at the facility rate plus the
hospital's OPPS (or IPPS) facility payment — so they take the payer's *hospital* ratio
(commercial: evidence T4.50, which RAND measures over facility + professional hospital claims).

Price parameters for a scenario's ``[unit_costs]`` section
----------------------------------------------------------
:func:`build_price_parameters` turns the section into ordinary ``[parameters.NAME]`` tables, so
prices are named, sourced parameters that the scenario's expressions use and that PSA and DSA vary
like any other:

* ``payer_multiplier_office`` and ``payer_multiplier_facility`` — always present. Fixed at 1 for
  ``medicare``; for ``commercial`` they carry the multipliers file's distribution (triangular or
  lognormal), so one draw of each multiplier is shared by every item of its setting.
* ``price_<item>`` — the price every scenario expression should use, in the scenario's price year
  and payer. When no multiplier applies (a ``cash`` item, or a payer whose multiplier for the
  item's setting is fixed at 1, as ``medicare``'s) it is a gamma parameter with ``mean`` = the
  resolved price and ``sd`` = ``mean × sd_fraction`` (``fixed`` if ``sd_fraction`` is 0). When a
  multiplier applies (e.g. payer ``commercial`` and a ``medicare``-basis item) it is a derived
  parameter, ``"price_base_<item> * payer_multiplier_<setting>"``.
* ``price_base_<item>`` — only in that last case: the gamma-distributed Medicare amount in the
  scenario's price year, before the payer multiplier.

So PSA varies the unit price (its own gamma draw) and the payer multiplier (one draw per setting)
independently, and each ``price_<item>`` keeps its name and a source in every case.
"""

from __future__ import annotations

import csv
import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from costspine.errors import Problem, ScenarioError, UsageError

DATA_DIR = Path(__file__).resolve().parent / "data"
CATALOGUE_PATH = DATA_DIR / "unit_costs.csv"
CPI_PATH = DATA_DIR / "cpi_medical.csv"
MULTIPLIERS_PATH = DATA_DIR / "payer_multipliers.csv"

CURRENCY = "USD"
CATEGORIES = ("imaging", "injections", "specialist_visits", "therapy_sessions", "primary_care",
              "medications", "surgery", "coaching")
SETTINGS = ("office", "facility")
PAYER_BASES = ("medicare", "cash")
STATUSES = ("verified-in-source", "verified-in-source (secondary report)", "derived",
            "recalled-unverified", "assumption")
UNVERIFIED_STATUSES = ("recalled-unverified", "assumption")
MIN_UNVERIFIED_SD_FRACTION = 0.25
MULTIPLIER_DISTRIBUTIONS = ("fixed", "triangular", "lognormal")
UNIT_COSTS_KEYS = ("payer", "price_year", "items", "catalogue")
Z_975 = 1.96  # lognormal multipliers: low/high are the 2.5% and 97.5% points

CATALOGUE_COLUMNS = ("item", "code", "description", "category", "setting", "price", "price_year",
                     "payer_basis", "sd_fraction", "source", "status")
CPI_COLUMNS = ("year", "index", "source", "status")
MULTIPLIER_COLUMNS = ("payer", "setting", "multiplier", "low", "high", "distribution", "source", "status")
_ITEM_ID = re.compile(r"^[a-z][a-z0-9_]*$")


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CatalogueItem:
    """One billable item of the unit-cost catalogue (one row of ``unit_costs.csv``)."""

    item: str
    code: str
    description: str
    category: str
    setting: str
    price: float
    price_year: int
    payer_basis: str
    sd_fraction: float
    source: str
    status: str


def _column(name: str, kind=tuple):
    def get(self):
        values = [getattr(row, name) for row in self.rows]
        return tuple(values) if kind is tuple else np.array(values, dtype=kind)

    return property(get, doc=f"``{name}`` of every row, in file order.")


@dataclass(frozen=True)
class Catalogue:
    """The unit-cost catalogue: one :class:`CatalogueItem` record per row, in file order.

    Column views (``items``, ``code``, ..., ``price`` as a float array, ``price_year`` as an int
    array) are computed on access; ``get(item)`` returns one record.
    """

    path: str
    rows: tuple

    items = _column("item")
    code = _column("code")
    description = _column("description")
    category = _column("category")
    setting = _column("setting")
    price = _column("price", float)
    price_year = _column("price_year", int)
    payer_basis = _column("payer_basis")
    sd_fraction = _column("sd_fraction", float)
    source = _column("source")
    status = _column("status")

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, item) -> bool:
        return any(row.item == item for row in self.rows)

    def get(self, item: str) -> CatalogueItem:
        """Return the record of ``item``; raise :class:`UsageError` naming close ids if unknown."""
        for row in self.rows:
            if row.item == item:
                return row
        raise UsageError(f"{self.path}: no catalogue item {item!r}{_suggest(str(item), self.items)}")


@dataclass(frozen=True)
class CpiYear:
    """One annual average of the CPI-U medical care index."""

    year: int
    index: float
    source: str
    status: str


@dataclass(frozen=True)
class CpiTable:
    """CPI-U medical care annual averages (1982-84 = 100), one :class:`CpiYear` per year."""

    path: str
    rows: tuple

    @property
    def years(self) -> tuple:
        """The years the table covers, ascending."""
        return tuple(row.year for row in self.rows)

    def row(self, year: int) -> CpiYear:
        """Return the record of ``year``; raise :class:`UsageError` naming the available years."""
        for row in self.rows:
            if row.year == year:
                return row
        raise UsageError(
            f"{self.path}: no CPI-U medical care index for {year!r}; available years: "
            f"{_year_span(self.years)} — choose a price year in that range or add the year (with its source) to the file"
        )


@dataclass(frozen=True)
class PayerMultiplier:
    """A payer's price ratio to Medicare in one setting, with its PSA distribution.

    ``distribution`` is ``fixed`` (``low == multiplier == high``), ``triangular`` (``min = low``,
    ``mode = multiplier``, ``max = high``) or ``lognormal`` (``meanlog = ln(multiplier)``,
    ``sdlog = ln(high / low) / (2 × 1.96)``: ``low``/``high`` are the 2.5%/97.5% points).
    """

    payer: str
    setting: str
    multiplier: float
    low: float
    high: float
    distribution: str
    source: str
    status: str

    def to_parameter(self) -> dict:
        """Return the multiplier as a scenario ``[parameters.NAME]`` table (base case = ``multiplier``)."""
        source = f"{self.source} [{self.status}]; payer {self.payer}, {self.setting} items"
        if self.distribution == "triangular":
            return {"value": self.multiplier, "distribution": "triangular", "min": self.low,
                    "mode": self.multiplier, "max": self.high, "source": source}
        if self.distribution == "lognormal":
            return {"value": self.multiplier, "distribution": "lognormal", "meanlog": math.log(self.multiplier),
                    "sdlog": math.log(self.high / self.low) / (2 * Z_975), "source": source}
        return {"value": self.multiplier, "distribution": "fixed", "source": source}


@dataclass(frozen=True)
class PayerMultipliers:
    """Every payer's multipliers, one :class:`PayerMultiplier` per (payer, setting)."""

    path: str
    rows: tuple

    @property
    def payers(self) -> tuple:
        """Payer names in file order."""
        return tuple(dict.fromkeys(row.payer for row in self.rows))

    def get(self, payer: str, setting: str) -> PayerMultiplier:
        """Return the multiplier of ``payer`` in ``setting``; raise :class:`UsageError` if absent."""
        for row in self.rows:
            if row.payer == payer and row.setting == setting:
                return row
        raise UsageError(f"{self.path}: no multiplier for payer {payer!r}, setting {setting!r}; "
                         f"payers: {', '.join(self.payers)}; settings: {', '.join(SETTINGS)}")


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


# --------------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------------

def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.5)
    return f" — did you mean {' or '.join(map(repr, close))}?" if close else ""


def _year_span(years) -> str:
    years = sorted(years)
    if years and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}"
    return ", ".join(map(str, years))


def _read_rows(path: Path, columns: tuple) -> tuple[list, list]:
    """Read a CSV with exactly ``columns``; return ``[("file:line", {column: stripped text})]`` and problems."""
    if not path.is_file():
        raise UsageError(f"{path}: file not found — check the path (relative paths are resolved against the scenario's folder)")
    problems, rows = [], []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in columns if c not in header]
        extra = [c for c in header if c not in columns]
        if missing or extra:
            found = ", ".join(header) or "an empty file"
            problems.append(Problem(f"{path}:1", f"expected the columns {', '.join(columns)}; got {found}"
                                    + (f" (missing: {', '.join(missing)})" if missing else "")
                                    + (f" (unknown: {', '.join(extra)})" if extra else "")))
            return [], problems
        for record in reader:
            where = f"{path}:{reader.line_num}"
            if None in record or any(v is None for v in record.values()):
                problems.append(Problem(where, f"expected {len(columns)} fields; got a row with "
                                        f"{'more' if None in record else 'fewer'} — quote fields that contain commas"))
                continue
            rows.append((where, {k: v.strip() for k, v in record.items()}))
    if not rows and not problems:
        problems.append(Problem(f"{path}:2", "no rows; expected at least one"))
    return rows, problems


def _number(text: str, where: str, column: str, problems: list, *, integer=False, low=None, strict_low=False):
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        problems.append(Problem(where, f"{column} must be {kind}; got {text!r}"))
        return None
    if not math.isfinite(value):
        problems.append(Problem(where, f"{column} must be finite; got {text!r}"))
        return None
    if low is not None and (value <= low if strict_low else value < low):
        problems.append(Problem(where, f"{column} must be {'>' if strict_low else '>='} {low:g}; got {text}"))
        return None
    return value


def _choice(text: str, where: str, column: str, choices, problems: list) -> str | None:
    if text in choices:
        return text
    problems.append(Problem(where, f"{column} must be one of {', '.join(choices)}; got {text!r}{_suggest(text, choices)}"))
    return None


def _check_sourced(fields: dict, where: str, problems: list) -> None:
    status = _choice(fields["status"], where, "status", STATUSES, problems)
    if not fields["source"]:
        problems.append(Problem(where, "source is empty; say where the number comes from (evidence id) or 'assumption'"))
    elif status in UNVERIFIED_STATUSES and status not in fields["source"]:
        problems.append(Problem(where, f"status is {status!r} but the source text does not say so; "
                                f"start the source with '{status}: ' so every report shows it"))


def load_cpi(path: str | Path | None = None) -> CpiTable:
    """Load the CPI-U medical care table.

    Parameters
    ----------
    path : str or Path, optional
        CSV with columns ``year, index, source, status``. Default: ``costspine/data/cpi_medical.csv``
        (evidence T10.CPI2015-T10.CPI2025).

    Returns
    -------
    CpiTable

    Raises
    ------
    ScenarioError
        Every bad row at once (``file:line``): non-integer or duplicate year, index <= 0, empty
        source, unknown status.
    UsageError
        The file does not exist.
    """
    path = Path(path) if path is not None else CPI_PATH
    rows, problems = _read_rows(path, CPI_COLUMNS)
    records = []
    for where, f in rows:
        year = _number(f["year"], where, "year", problems, integer=True)
        index = _number(f["index"], where, "index", problems, low=0, strict_low=True)
        _check_sourced(f, where, problems)
        if year is not None and any(r.year == year for r in records):
            problems.append(Problem(where, f"year {year} appears twice; keep one row per year"))
        elif year is not None and index is not None:
            records.append(CpiYear(year, index, f["source"], f["status"]))
    if problems:
        raise ScenarioError(problems)
    return CpiTable(str(path), tuple(sorted(records, key=lambda r: r.year)))


def load_catalogue(path: str | Path | None = None, *, cpi: CpiTable | None = None) -> Catalogue:
    """Load and validate the unit-cost catalogue.

    Parameters
    ----------
    path : str or Path, optional
        CSV with the columns of :data:`CATALOGUE_COLUMNS`. Default: ``costspine/data/unit_costs.csv``.
    cpi : CpiTable, optional
        Table every ``price_year`` must appear in. Default: :func:`load_cpi` ().

    Returns
    -------
    Catalogue

    Raises
    ------
    ScenarioError
        Every bad row at once, each as ``Problem("file:line", ...)``: an item id that is not
        snake_case or is duplicated; price not > 0; unknown category, setting, payer basis or
        status; a price year missing from the CPI table; empty source or description;
        ``sd_fraction`` < 0, or < 0.25 for a ``recalled-unverified``/``assumption`` row (unverified
        values need wide uncertainty), or such a row whose source does not name its status.
    UsageError
        The file does not exist.

    Examples
    --------
    >>> catalogue = load_catalogue()
    >>> catalogue.get("mri_lumbar").price
    188.26
    """
    path = Path(path) if path is not None else CATALOGUE_PATH
    cpi = cpi if cpi is not None else load_cpi()
    rows, problems = _read_rows(path, CATALOGUE_COLUMNS)
    records, seen = [], set()
    for where, f in rows:
        before = len(problems)
        item = f["item"]
        if not _ITEM_ID.match(item):
            problems.append(Problem(where, f"item must be a snake_case id (a-z, 0-9, _), e.g. mri_lumbar; got {item!r}"))
        elif item in seen:
            problems.append(Problem(where, f"item {item!r} appears twice; item ids must be unique"))
        seen.add(item)
        if not f["description"]:
            problems.append(Problem(where, "description is empty; say what is billed"))
        category = _choice(f["category"], where, "category", CATEGORIES, problems)
        _choice(f["setting"], where, "setting", SETTINGS, problems)
        _choice(f["payer_basis"], where, "payer_basis", PAYER_BASES, problems)
        price = _number(f["price"], where, "price (USD)", problems, low=0, strict_low=True)
        year = _number(f["price_year"], where, "price_year", problems, integer=True)
        if year is not None and year not in cpi.years:
            problems.append(Problem(where, f"price_year {year} is not in the CPI table {cpi.path} "
                                    f"(years {_year_span(cpi.years)}); prices must be inflatable to the scenario's year"))
        sd_fraction = _number(f["sd_fraction"], where, "sd_fraction", problems, low=0)
        _check_sourced(f, where, problems)
        if (sd_fraction is not None and f["status"] in UNVERIFIED_STATUSES
                and sd_fraction < MIN_UNVERIFIED_SD_FRACTION):
            problems.append(Problem(where, f"sd_fraction {sd_fraction:g} is too narrow for a {f['status']} price; "
                                    f"use at least {MIN_UNVERIFIED_SD_FRACTION} (e.g. 0.3-0.5)"))
        if len(problems) == before and category is not None:
            records.append(CatalogueItem(item, f["code"], f["description"], category, f["setting"], price,
                                         year, f["payer_basis"], sd_fraction, f["source"], f["status"]))
    if problems:
        raise ScenarioError(problems)
    return Catalogue(str(path), tuple(records))


def load_payer_multipliers(path: str | Path | None = None) -> PayerMultipliers:
    """Load the payer multipliers (payer price / Medicare price, per setting).

    Parameters
    ----------
    path : str or Path, optional
        CSV with columns ``payer, setting, multiplier, low, high, distribution, source, status``.
        Default: ``costspine/data/payer_multipliers.csv`` (evidence T4.50-T4.54).

    Returns
    -------
    PayerMultipliers

    Raises
    ------
    ScenarioError
        Every bad row at once (``file:line``): unknown setting or distribution, multiplier not > 0,
        ``low <= multiplier <= high`` violated, a ``fixed`` row whose bounds differ from its value,
        a ``lognormal`` row whose multiplier is not the geometric midpoint of ``low`` and ``high``
        (within 1%), a duplicate (payer, setting), or a payer missing one of the settings.
    UsageError
        The file does not exist.
    """
    path = Path(path) if path is not None else MULTIPLIERS_PATH
    rows, problems = _read_rows(path, MULTIPLIER_COLUMNS)
    records = []
    for where, f in rows:
        before = len(problems)
        if not _ITEM_ID.match(f["payer"]):
            problems.append(Problem(where, f"payer must be a snake_case name, e.g. commercial; got {f['payer']!r}"))
        _choice(f["setting"], where, "setting", SETTINGS, problems)
        dist = _choice(f["distribution"], where, "distribution", MULTIPLIER_DISTRIBUTIONS, problems)
        m, lo, hi = (_number(f[c], where, c, problems, low=0, strict_low=True) for c in ("multiplier", "low", "high"))
        _check_sourced(f, where, problems)
        if None not in (m, lo, hi, dist):
            if not lo <= m <= hi:
                problems.append(Problem(where, f"need low <= multiplier <= high; got {lo:g}, {m:g}, {hi:g}"))
            elif dist == "fixed" and not lo == m == hi:
                problems.append(Problem(where, f"a fixed multiplier needs low = multiplier = high; got {lo:g}, {m:g}, {hi:g}"))
            elif dist != "fixed" and not lo < hi:
                problems.append(Problem(where, f"a {dist} multiplier needs low < high; got {lo:g}, {hi:g}"))
            elif dist == "lognormal" and abs(math.log(m) - (math.log(lo) + math.log(hi)) / 2) > 0.01:
                problems.append(Problem(where, f"a lognormal multiplier must be the geometric midpoint of low and high "
                                        f"(its 2.5%/97.5% points); got {m:g}, expected {math.sqrt(lo * hi):.4g}"))
        if any(r.payer == f["payer"] and r.setting == f["setting"] for r in records):
            problems.append(Problem(where, f"payer {f['payer']!r}, setting {f['setting']!r} appears twice"))
        elif len(problems) == before:
            records.append(PayerMultiplier(f["payer"], f["setting"], m, lo, hi, dist, f["source"], f["status"]))
    if not problems:
        for payer in dict.fromkeys(r.payer for r in records):
            have = {r.setting for r in records if r.payer == payer}
            for setting in SETTINGS:
                if setting not in have:
                    problems.append(Problem(str(path), f"payer {payer!r} has no {setting!r} row; every payer needs "
                                            f"one row per setting ({', '.join(SETTINGS)})"))
    if problems:
        raise ScenarioError(problems)
    return PayerMultipliers(str(path), tuple(records))


# --------------------------------------------------------------------------------------------
# Prices
# --------------------------------------------------------------------------------------------

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
    >>> round(inflation_factor(2023, 2025, cpi=cpi), 6)   # 580.498 / 549.084
    1.057212
    """
    return cpi.row(to_year).index / cpi.row(from_year).index


_MISSING = object()


def _request_problems(catalogue: Catalogue | None, items, *, price_year, payer, multipliers: PayerMultipliers,
                      cpi: CpiTable, where: str) -> list:
    """Problems with a price request; ``where`` is the key path prefix (e.g. ``file: unit_costs``).

    Arguments that are ``_MISSING`` are not checked (their absence is reported by the caller);
    without a ``catalogue`` the item ids are checked for type and duplicates only.
    """
    problems = []
    if payer is not _MISSING and (not isinstance(payer, str) or payer not in multipliers.payers):
        problems.append(Problem(f"{where}.payer", f"expected one of {', '.join(map(repr, multipliers.payers))}; "
                                f"got {payer!r}{_suggest(str(payer), multipliers.payers)}"))
    if price_year is _MISSING:
        pass
    elif isinstance(price_year, bool) or not isinstance(price_year, int):
        problems.append(Problem(f"{where}.price_year", f"expected a whole year such as 2025; got {price_year!r}"))
    elif price_year not in cpi.years:
        problems.append(Problem(f"{where}.price_year", f"no CPI-U medical care index for {price_year} in {cpi.path}; "
                                f"available years: {_year_span(cpi.years)} — use one of these (and the same year as "
                                "settings.price_year)"))
    if items is _MISSING:
        return problems
    if isinstance(items, str) or not isinstance(items, (list, tuple)):
        hint = f' — wrap it in a list: items = ["{items}"]' if isinstance(items, str) else ""
        problems.append(Problem(f"{where}.items", f"expected a list of catalogue item ids; got {items!r}{hint}"))
        return problems
    if not items:
        problems.append(Problem(f"{where}.items", "expected at least one catalogue item id; got an empty list"))
    seen = set()
    for i, item in enumerate(items):
        key = f"{where}.items[{i}]"
        if not isinstance(item, str):
            problems.append(Problem(key, f"expected a catalogue item id (text); got {item!r}"))
        elif item in seen:
            problems.append(Problem(key, f"{item!r} is listed twice; list each item once"))
        elif catalogue is not None and item not in catalogue:
            hint = _suggest(item, catalogue.items) or f" — the ids are the 'item' column of {catalogue.path}"
            problems.append(Problem(key, f"unknown catalogue item {item!r}{hint}"))
        if isinstance(item, str):
            seen.add(item)
    return problems


def _inflation_text(row: CatalogueItem, price_year: int, factor: float, cpi: CpiTable) -> str:
    """How a row's price was moved to ``price_year``, flagging unverified CPI values."""
    years = dict.fromkeys((row.price_year, price_year))
    shaky = [f"CPI {y} {cpi.row(y).status}" for y in years if cpi.row(y).status in UNVERIFIED_STATUSES]
    note = f" ({'; '.join(shaky)})" if shaky else ""
    return f"{row.price_year} USD -> {price_year} USD by CPI-U medical care x{factor:.4f}{note}"


def resolve_unit_prices(catalogue: Catalogue, items, *, price_year: int, payer: str,
                        multipliers: PayerMultipliers, cpi: CpiTable) -> list[ResolvedPrice]:
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
    multiplier for the item's setting (``office`` → physician ratio, ``facility`` → hospital ratio)
    and ``m = 1`` for ``cash`` items.

    Examples
    --------
    >>> cpi, catalogue, mult = load_cpi(), load_catalogue(), load_payer_multipliers()
    >>> [p] = resolve_unit_prices(catalogue, ["mri_lumbar"], price_year=2025, payer="commercial",
    ...                           multipliers=mult, cpi=cpi)
    >>> round(p.price, 2)   # 188.26 × 1.43
    269.21
    """
    problems = _request_problems(catalogue, items, price_year=price_year, payer=payer,
                                 multipliers=multipliers, cpi=cpi, where="unit prices")
    if problems:
        raise UsageError("cannot resolve unit prices:\n" + "\n".join(f"  - {p}" for p in problems))
    resolved = []
    for item in items:
        row = catalogue.get(item)
        factor = inflation_factor(row.price_year, price_year, cpi=cpi)
        cash = row.payer_basis == "cash"
        mult = 1.0 if cash else multipliers.get(payer, row.setting).multiplier
        adjust = (_inflation_text(row, price_year, factor, cpi) + "; "
                  + ("cash price, no payer multiplier" if cash else f"payer {payer} {row.setting} multiplier x{mult:g}"))
        resolved.append(ResolvedPrice(
            item=item, code=row.code, category=row.category, setting=row.setting, payer_basis=row.payer_basis,
            base_price=row.price, base_year=row.price_year, price_year=price_year, inflation_factor=factor,
            payer=payer, payer_multiplier=mult, price=row.price * factor * mult, sd_fraction=row.sd_fraction,
            status=row.status, source=f"{row.source} [{row.status}]; {adjust}",
        ))
    return resolved


def _price_table(value: float, sd_fraction: float, source: str) -> dict:
    if sd_fraction == 0:
        return {"value": value, "distribution": "fixed", "source": source}
    return {"value": value, "distribution": "gamma", "mean": value, "sd": value * sd_fraction, "source": source}


def build_price_parameters(section, *, where: str, base_dir: str | Path | None = None,
                           cpi: CpiTable | None = None,
                           multipliers: PayerMultipliers | None = None) -> tuple[dict, list]:
    """Turn a scenario's ``[unit_costs]`` section into scenario parameter tables.

    Parameters
    ----------
    section : dict
        The parsed section: ``payer`` (str), ``price_year`` (int), ``items`` (list of catalogue
        ids) and optionally ``catalogue`` (path to an alternative catalogue CSV).
    where : str
        Key path of the section for messages, e.g. ``"scenarios/x.toml: unit_costs"``.
    base_dir : str or Path, optional
        Folder that a relative ``catalogue`` path is resolved against (the scenario's folder).
    cpi, multipliers : optional
        Tables to use instead of the bundled ``cpi_medical.csv`` and ``payer_multipliers.csv``.

    Returns
    -------
    parameters : dict of str to dict
        ``[parameters.NAME]`` tables (see the module docstring): ``payer_multiplier_office``,
        ``payer_multiplier_facility``, then per item ``price_<item>`` (and ``price_base_<item>``
        when a payer multiplier applies), in the order of ``items``. Empty if the payer, the price
        year or the catalogue is unusable; otherwise holds every item that resolved.
    problems : list of Problem
        Every problem found (empty when the section is valid): unknown keys, unknown payer, price
        year not in the CPI table, unknown or duplicated items (naming the closest ids), a missing
        or invalid catalogue file. The caller raises them with the rest of the scenario's problems.

    Examples
    --------
    >>> params, problems = build_price_parameters(
    ...     {"payer": "medicare", "price_year": 2025, "items": ["mri_lumbar"]}, where="x.toml: unit_costs")
    >>> params["price_mri_lumbar"]["distribution"], params["price_mri_lumbar"]["mean"], problems
    ('gamma', 188.26, [])
    """
    if not isinstance(section, dict):
        return {}, [Problem(where, f"expected a table with keys {', '.join(UNIT_COSTS_KEYS)}; got {section!r}")]
    problems = []
    for key in section:
        if key not in UNIT_COSTS_KEYS:
            hint = _suggest(str(key), UNIT_COSTS_KEYS) or f"; allowed keys: {', '.join(UNIT_COSTS_KEYS)}"
            problems.append(Problem(f"{where}.{key}", f"unknown key{hint}"))
    examples = {"payer": '"medicare" or "commercial"', "price_year": "2025", "items": '["mri_lumbar", "pt_evaluation"]'}
    for key, example in examples.items():
        if key not in section:
            problems.append(Problem(f"{where}.{key}", f"missing; e.g. {key} = {example}"))
    cpi = cpi if cpi is not None else load_cpi()
    multipliers = multipliers if multipliers is not None else load_payer_multipliers()
    catalogue = None
    raw_path = section.get("catalogue")
    if "catalogue" not in section:
        catalogue = load_catalogue(cpi=cpi)
    elif not isinstance(raw_path, str) or not raw_path:
        problems.append(Problem(f"{where}.catalogue", f"expected a path to a catalogue CSV; got {raw_path!r}"))
    else:
        path = Path(raw_path)
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        if not path.is_file():
            problems.append(Problem(f"{where}.catalogue", f"file not found: {path} (relative paths are resolved "
                                    "against the scenario's folder); fix the path or drop the key to use the bundled catalogue"))
        else:
            try:
                catalogue = load_catalogue(path, cpi=cpi)
            except ScenarioError as error:  # the catalogue's own problems, kept with their file:line
                problems.extend(error.problems)
    payer, price_year, items = (section.get(k, _MISSING) for k in ("payer", "price_year", "items"))
    request = _request_problems(catalogue, items, price_year=price_year, payer=payer,
                                multipliers=multipliers, cpi=cpi, where=where)
    problems.extend(request)
    # Bad items and unknown keys still let the other items resolve; anything else blocks them all.
    unknown_keys = {f"{where}.{k}" for k in section if k not in UNIT_COSTS_KEYS}
    if catalogue is None or any(not p.where.startswith(f"{where}.items[") and p.where not in unknown_keys
                                for p in problems):
        return {}, problems
    valid = list(dict.fromkeys(i for i in items if isinstance(i, str) and i in catalogue))
    params = {f"payer_multiplier_{s}": multipliers.get(payer, s).to_parameter() for s in SETTINGS}
    resolved = resolve_unit_prices(catalogue, valid, price_year=price_year, payer=payer,
                                   multipliers=multipliers, cpi=cpi) if valid else []
    for price in resolved:
        name = f"price_{price.item}"
        mult = multipliers.get(payer, price.setting)
        if price.payer_basis == "cash" or (mult.distribution == "fixed" and mult.multiplier == 1):
            params[name] = _price_table(price.price, price.sd_fraction, price.source)
            continue
        row = catalogue.get(price.item)
        base = price.base_price * price.inflation_factor
        base_source = (f"{row.source} [{row.status}]; {_inflation_text(row, price_year, price.inflation_factor, cpi)}; "
                       "Medicare amount before the payer multiplier")
        params[f"price_base_{price.item}"] = _price_table(base, price.sd_fraction, base_source)
        params[name] = {
            "value": f"price_base_{price.item} * payer_multiplier_{price.setting}",
            "source": (f"derived: price_base_{price.item} x payer_multiplier_{price.setting} "
                       f"(payer {payer}, {price.setting} multiplier {mult.multiplier:g} [{mult.status}])"),
        }
    return params, problems


# --------------------------------------------------------------------------------------------
# Fee-policy changes
# --------------------------------------------------------------------------------------------

def _check_cut(cut_fraction) -> np.ndarray:
    cut = np.asarray(cut_fraction, dtype=float)
    bad = ~((cut >= 0) & (cut <= 1))
    if bad.any():
        first = cut[bad].flat[0]
        at = f" at index {tuple(int(i) for i in np.argwhere(bad)[0])}" if cut.ndim else ""
        hint = f" — fractions, not percent: did you mean {first / 100:g}?" if 1 < first <= 100 else ""
        raise UsageError(f"cut_fraction must be in [0, 1] (0.2 = a 20% fee cut); got {first:g}{at}"
                         f" ({int(bad.sum())} bad value{'s' if bad.sum() > 1 else ''}){hint}")
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
    >>> round(volume_multiplier(0.02, 1.5), 4)   # a 2% cut: ~3% less care
    0.9702
    >>> round(volume_multiplier(0.2, -0.5), 4)   # income effect: more volume
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
