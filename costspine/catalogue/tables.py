"""The unit-cost catalogue, the CPI table and payer multipliers: the CSV files in ``costspine/data``
read and checked, every problem named by file, row and column.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from costspine._files import MAX_TABLE_BYTES, describe_header, read_input_file
from costspine.errors import InputFileError, UsageError
from costspine.problems import Collector

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

CATALOGUE_PATH = DATA_DIR / "unit_costs.csv"

CPI_PATH = DATA_DIR / "cpi_medical.csv"

MULTIPLIERS_PATH = DATA_DIR / "payer_multipliers.csv"

CURRENCY = "USD"

CATEGORIES = (
    "imaging",
    "injections",
    "specialist_visits",
    "therapy_sessions",
    "primary_care",
    "medications",
    "surgery",
    "coaching",
)

SETTINGS = ("office", "facility", "asc")

# Settings whose payer multiplier is a parameter of every priced scenario; the others (asc) only
# when a requested item is in that setting.
ALWAYS_PRICED_SETTINGS = ("office", "facility")

PAYER_BASES = ("medicare", "cash")

STATUSES = ("verified-in-source", "verified-in-source (secondary report)", "derived", "recalled-unverified", "assumption")

UNVERIFIED_STATUSES = ("recalled-unverified", "assumption")

MIN_UNVERIFIED_SD_FRACTION = 0.25

MULTIPLIER_DISTRIBUTIONS = ("fixed", "triangular", "lognormal")

Z_975 = 1.96  # lognormal multipliers: low/high are the 2.5% and 97.5% points

CATALOGUE_COLUMNS = (
    "item",
    "code",
    "description",
    "category",
    "setting",
    "price",
    "price_year",
    "payer_basis",
    "sd_fraction",
    "source",
    "status",
)

CPI_COLUMNS = ("year", "index", "source", "status")

MULTIPLIER_COLUMNS = ("payer", "setting", "multiplier", "low", "high", "distribution", "source", "status")

_ITEM_ID = re.compile(r"^[a-z][a-z0-9_]*$")


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
            return {
                "value": self.multiplier,
                "distribution": "triangular",
                "min": self.low,
                "mode": self.multiplier,
                "max": self.high,
                "source": source,
            }
        if self.distribution == "lognormal":
            return {
                "value": self.multiplier,
                "distribution": "lognormal",
                "meanlog": math.log(self.multiplier),
                "sdlog": math.log(self.high / self.low) / (2 * Z_975),
                "source": source,
            }
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
        raise UsageError(
            f"{self.path}: no multiplier for payer {payer!r}, setting {setting!r}; "
            f"payers: {', '.join(self.payers)}; settings: {', '.join(SETTINGS)}"
        )


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.5)
    return f" — did you mean {' or '.join(map(repr, close))}?" if close else ""


def _year_span(years) -> str:
    years = sorted(years)
    if years and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}"
    return ", ".join(map(str, years))


def _read_rows(path: Path, columns: tuple, c: Collector) -> list:
    """Read a CSV with exactly ``columns``; return ``[("file:line", {column: stripped text})]``.

    Problems of the file (columns, ragged rows, no rows) are added to ``c`` at ``file:line``.
    """
    if not path.exists() and not path.is_symlink():
        raise UsageError(
            f"{path}: file not found — check the path (a relative path in a scenario is resolved against the folder of the file that declares it)"
        )
    rows, before = [], len(c.problems)
    try:
        text = read_input_file(path, max_bytes=MAX_TABLE_BYTES).decode("utf-8")
    except InputFileError as exc:
        c.add_at(exc.path, exc.reason)
        return []
    except UnicodeDecodeError as exc:
        c.add_at(str(path), f"expected UTF-8 text; byte {exc.start} is not valid UTF-8")
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
        missing = [col for col in columns if col not in header]
        extra = [col for col in header if col not in columns]
        if missing or extra:
            named = describe_header(header) == ", ".join(repr(h.strip()) for h in header)
            c.add_at(
                f"{path}:1",
                f"expected the columns {', '.join(columns)}; got {describe_header(header)}"
                + (f" (missing: {', '.join(missing)})" if missing else "")
                + (f" (unknown: {', '.join(extra)})" if extra and named else ""),
            )
            return []
        for record in reader:
            where = f"{path}:{reader.line_num}"
            if None in record or any(v is None for v in record.values()):
                c.add_at(
                    where,
                    f"expected {len(columns)} fields; got a row with "
                    f"{'more' if None in record else 'fewer'} — quote fields that contain commas",
                )
                continue
            rows.append((where, {k: v.strip() for k, v in record.items()}))
    except csv.Error as exc:
        c.add_at(f"{path}:{reader.line_num}", f"not a readable CSV row ({exc})")
        return []
    if not rows and len(c.problems) == before:
        c.add_at(f"{path}:2", "no rows; expected at least one")
    return rows


def _number(text: str, where: str, column: str, c: Collector, *, integer=False, low=None, strict_low=False):
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        c.add_at(where, f"{column} must be {kind}; got {text!r}")
        return None
    if not math.isfinite(value):
        c.add_at(where, f"{column} must be finite; got {text!r}")
        return None
    if low is not None and (value <= low if strict_low else value < low):
        c.add_at(where, f"{column} must be {'>' if strict_low else '>='} {low:g}; got {text}")
        return None
    return value


def _choice(text: str, where: str, column: str, choices, c: Collector) -> str | None:
    if text in choices:
        return text
    c.add_at(where, f"{column} must be one of {', '.join(choices)}; got {text!r}{_suggest(text, choices)}")
    return None


def _check_sourced(fields: dict, where: str, c: Collector) -> None:
    status = _choice(fields["status"], where, "status", STATUSES, c)
    if not fields["source"]:
        c.add_at(where, "source is empty; say where the number comes from (evidence id) or 'assumption'")
    elif status in UNVERIFIED_STATUSES and status not in fields["source"]:
        c.add_at(
            where,
            f"status is {status!r} but the source text does not say so; "
            f"start the source with '{status}: ' so every report shows it",
        )


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
    c = Collector()
    rows = _read_rows(path, CPI_COLUMNS, c)
    records = []
    for where, f in rows:
        year = _number(f["year"], where, "year", c, integer=True)
        index = _number(f["index"], where, "index", c, low=0, strict_low=True)
        _check_sourced(f, where, c)
        if year is not None and any(r.year == year for r in records):
            c.add_at(where, f"year {year} appears twice; keep one row per year")
        elif year is not None and index is not None:
            records.append(CpiYear(year, index, f["source"], f["status"]))
    c.raise_if_any()
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
    c = Collector()
    rows = _read_rows(path, CATALOGUE_COLUMNS, c)
    records, seen = [], set()
    for where, f in rows:
        before = len(c.problems)
        item = f["item"]
        if not _ITEM_ID.match(item):
            c.add_at(where, f"item must be a snake_case id (a-z, 0-9, _), e.g. mri_lumbar; got {item!r}")
        elif item in seen:
            c.add_at(where, f"item {item!r} appears twice; item ids must be unique")
        seen.add(item)
        if not f["description"]:
            c.add_at(where, "description is empty; say what is billed")
        category = _choice(f["category"], where, "category", CATEGORIES, c)
        _choice(f["setting"], where, "setting", SETTINGS, c)
        _choice(f["payer_basis"], where, "payer_basis", PAYER_BASES, c)
        price = _number(f["price"], where, "price (USD)", c, low=0, strict_low=True)
        year = _number(f["price_year"], where, "price_year", c, integer=True)
        if year is not None and year not in cpi.years:
            c.add_at(
                where,
                f"price_year {year} is not in the CPI table {cpi.path} "
                f"(years {_year_span(cpi.years)}); prices must be inflatable to the scenario's year",
            )
        sd_fraction = _number(f["sd_fraction"], where, "sd_fraction", c, low=0)
        _check_sourced(f, where, c)
        if sd_fraction is not None and f["status"] in UNVERIFIED_STATUSES and sd_fraction < MIN_UNVERIFIED_SD_FRACTION:
            c.add_at(
                where,
                f"sd_fraction {sd_fraction:g} is too narrow for a {f['status']} price; "
                f"use at least {MIN_UNVERIFIED_SD_FRACTION} (e.g. 0.3-0.5)",
            )
        if len(c.problems) == before and category is not None:
            records.append(
                CatalogueItem(
                    item,
                    f["code"],
                    f["description"],
                    category,
                    f["setting"],
                    price,
                    year,
                    f["payer_basis"],
                    sd_fraction,
                    f["source"],
                    f["status"],
                )
            )
    c.raise_if_any()
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
    c = Collector()
    rows = _read_rows(path, MULTIPLIER_COLUMNS, c)
    records = []
    for where, f in rows:
        before = len(c.problems)
        if not _ITEM_ID.match(f["payer"]):
            c.add_at(where, f"payer must be a snake_case name, e.g. commercial; got {f['payer']!r}")
        _choice(f["setting"], where, "setting", SETTINGS, c)
        dist = _choice(f["distribution"], where, "distribution", MULTIPLIER_DISTRIBUTIONS, c)
        m, lo, hi = (_number(f[col], where, col, c, low=0, strict_low=True) for col in ("multiplier", "low", "high"))
        _check_sourced(f, where, c)
        if None not in (m, lo, hi, dist):
            if not lo <= m <= hi:
                c.add_at(where, f"need low <= multiplier <= high; got {lo:g}, {m:g}, {hi:g}")
            elif dist == "fixed" and not lo == m == hi:
                c.add_at(where, f"a fixed multiplier needs low = multiplier = high; got {lo:g}, {m:g}, {hi:g}")
            elif dist != "fixed" and not lo < hi:
                c.add_at(where, f"a {dist} multiplier needs low < high; got {lo:g}, {hi:g}")
            elif dist == "lognormal" and abs(math.log(m) - (math.log(lo) + math.log(hi)) / 2) > 0.01:
                c.add_at(
                    where,
                    f"a lognormal multiplier must be the geometric midpoint of low and high "
                    f"(its 2.5%/97.5% points); got {m:g}, expected {math.sqrt(lo * hi):.4g}",
                )
        if any(r.payer == f["payer"] and r.setting == f["setting"] for r in records):
            c.add_at(where, f"payer {f['payer']!r}, setting {f['setting']!r} appears twice")
        elif len(c.problems) == before:
            records.append(PayerMultiplier(f["payer"], f["setting"], m, lo, hi, dist, f["source"], f["status"]))
    if not c.problems:
        for payer in dict.fromkeys(r.payer for r in records):
            have = {r.setting for r in records if r.payer == payer}
            for setting in SETTINGS:
                if setting not in have:
                    c.add_at(
                        str(path),
                        f"payer {payer!r} has no {setting!r} row; every payer needs one row per setting ({', '.join(SETTINGS)})",
                    )
    c.raise_if_any()
    return PayerMultipliers(str(path), tuple(records))
