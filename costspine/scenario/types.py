"""The validated scenario: frozen records of settings, analysis, rewards, tables and the scenario
itself (never mutated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from costspine._files import resolve_path
from costspine.params import ParameterSpec
from costspine.problems import declaring_file

CYCLE_UNITS_IN_YEARS = {"year": 1.0, "month": 1.0 / 12.0, "week": 7.0 / 365.25, "day": 1.0 / 365.25}


REST = "rest"


@dataclass(frozen=True)
class Settings:
    """Time, discounting and money settings of a scenario."""

    cycle_length: float
    cycle_unit: str
    n_cycles: int
    discount_costs: float
    discount_outcomes: float
    cycle_correction: str
    currency: str
    price_year: int
    discount_timing: str = "point"  # "point" (at the trace point) or "start" (at the start of the cycle)
    weights: tuple | None = None  # cycle_correction = "custom": one weight per trace point 0..T

    @property
    def cycle_years(self) -> float:
        """Length of one cycle in years."""
        return self.cycle_length * CYCLE_UNITS_IN_YEARS[self.cycle_unit]


PERSPECTIVES = ("payer", "health_care_sector", "societal")

# Cost categories outside the health-care sector: counted only from the societal perspective
# (Second Panel impact inventory: productivity, unpaid caregiver time, patient time, transport).
NON_HEALTH_CARE_CATEGORIES = ("productivity", "informal_care", "patient_time", "transport")

# How a payer id of costspine/data/payer_multipliers.csv reads in a sentence.
PAYER_NAMES = {"medicare": "Medicare", "commercial": "commercial"}

_PERSPECTIVE_TEXT = {
    "payer": "{payer}: health-care costs the payer pays; productivity not counted",
    "health_care_sector": "health-care sector: medical costs of payers and patients; productivity not counted",
    "societal": "societal: health-care costs plus costs outside health care ({categories})",
}


@dataclass(frozen=True)
class Analysis:
    """Which outcome is the effect, the comparator, willingness-to-pay thresholds and the perspective.

    ``perspective`` is one of :data:`PERSPECTIVES` (``[analysis] perspective``, default ``"payer"``);
    ``payer`` the ``[unit_costs] payer`` whose prices the costs are in (None without a catalogue);
    ``societal_categories`` the cost categories outside health care the scenario counts.
    """

    effect: str
    comparator: str
    wtp: tuple
    report_at_years: tuple = ()
    perspective: str = "payer"
    payer: str | None = None
    societal_categories: tuple = ()

    @property
    def perspective_text(self) -> str:
        """The perspective in words, the one wording every summary, workbook and printout uses.

        Examples
        --------
        >>> Analysis("qalys", "uc", (50000.0,), payer="medicare").perspective_text
        'payer (Medicare prices): health-care costs the payer pays; productivity not counted'
        """
        if self.perspective == "payer":
            name = PAYER_NAMES.get(self.payer, self.payer) if self.payer else None
            payer = f"payer ({name} prices)" if name else "payer"
            return _PERSPECTIVE_TEXT["payer"].format(payer=payer)
        return _PERSPECTIVE_TEXT[self.perspective].format(categories=", ".join(self.societal_categories) or "none")

    def perspective_record(self) -> dict:
        """``{"perspective", "payer", "perspective_text"}`` for ``summary.json`` and manifests."""
        return {"perspective": self.perspective, "payer": self.payer, "perspective_text": self.perspective_text}


@dataclass(frozen=True)
class Reward:
    """A state (and optionally transition) reward: a cost, an outcome, an indicator or a service count.

    ``state_values[strategy][state]`` is the value per cycle spent in the state;
    ``entry_values[strategy][state]`` the one-off value on entering it (costs, outcomes and services).
    """

    name: str
    kind: str
    category: str | None
    label: str
    state_values: dict
    entry_values: dict


@dataclass(frozen=True)
class LookupTable:
    """A one-dimensional look-up table read from a CSV file, callable on arrays."""

    name: str
    file: str
    x: np.ndarray
    y: np.ndarray
    method: str

    def __call__(self, values):
        values = np.asarray(values, dtype=float)
        if self.method == "linear":
            return np.interp(values, self.x, self.y)
        index = np.clip(np.searchsorted(self.x, values, side="right") - 1, 0, len(self.x) - 1)
        return self.y[index]


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: every expression parsed, every name resolved. Never mutated."""

    name: str
    title: str
    description: str
    path: Path
    files: tuple  # ((path, sha256), ...) of every file read: the extends chain (this file first), [tables] files,
    # the unit-cost catalogue, CPI and payer tables, evidence files of posterior parameters
    settings: Settings
    analysis: Analysis
    states: tuple
    state_labels: dict
    initial: dict  # state -> Expression
    strategies: tuple
    strategy_labels: dict
    strategy_values: dict  # strategy -> {name: Expression}: [values] and its own (its own win), in dependency order
    parameters: tuple  # ParameterSpec, in file order
    correlations: tuple
    tables: dict
    transitions: dict  # strategy -> {from: {to: Expression | REST}}
    costs: tuple
    outcomes: tuple
    indicators: tuple
    services: tuple = ()  # Reward(kind="service"): counts of services used (MRIs, injections, ...)
    sections: dict = field(default_factory=dict)  # raw later-stage sections (unit_costs, ...)
    resolved: dict = field(default_factory=dict)  # the merged file content, for reports
    population: object = None  # costspine.scenario.population.Population: [population] attributes, [microsimulation] history
    origin: dict = field(default_factory=dict)  # key path ("section" or "section.key") -> the file that declares it
    shared_values: dict = field(default_factory=dict)  # name -> Expression: the top-level [values], in file order
    edits: tuple = ()  # InputEdit of every cell an --inputs workbook changed (costspine.scenario.workbook_inputs)
    # key path naming another model file ("budget_impact.prevalent.scenario") -> (parameters, where from): an
    # --inputs workbook's edits of that model, laid over its file when it is loaded (costspine.scenario.bia_spec)
    model_parameters: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        from costspine._text import format_repr

        return format_repr(
            type(self).__name__,
            name=self.name,
            path=str(self.path),
            strategies=self.strategies,
            states=len(self.states),
            parameters=len(self.parameters),
        )

    def declared_path(self, keypath: str, value: str) -> Path:
        """A path written at ``keypath``, resolved against the folder of the file that declares it.

        A parent's ``[tables]`` file, ``[unit_costs] catalogue`` or ``[budget_impact] policy`` stays
        relative to the parent even when a child in another folder ``extends`` it; ``package:...``
        names a file bundled with costspine.
        """
        return resolve_path(value, base_dir=Path(declaring_file(self.origin, keypath, default=str(self.path))).parent)

    def value_keypath(self, strategy: str, name: str) -> str:
        """Where one of a strategy's values is written: the shared ``values.<name> (strategy <strategy>)``,
        or the strategy's own ``strategies.<strategy>.values.<name>`` (which replaces a shared one)."""
        if name in self.shared_values and self.strategy_values[strategy].get(name) is self.shared_values[name]:
            return f"values.{name} (strategy {strategy})"
        return f"strategies.{strategy}.values.{name}"

    @property
    def categories(self) -> tuple:
        """Cost categories in first-appearance order."""
        return tuple(dict.fromkeys(c.category for c in self.costs))

    def parameter(self, name: str) -> ParameterSpec:
        for spec in self.parameters:
            if spec.name == name or name in spec.components:
                return spec
        raise KeyError(name)
