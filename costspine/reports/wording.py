"""Words of the reports: money and amounts as a reader writes them, sentences comparing two
strategies, and the labels (categories, outcomes, indicators, report times) tables and charts use.

Every workbook builder (:mod:`costspine.reports.build`, :mod:`costspine.reports.build_compare`,
:mod:`costspine.reports.build_psa`, :mod:`costspine.reports.build_dsa`, :mod:`costspine.reports.build_bia`) writes its sentences
with these helpers, so the same number reads the same everywhere.

Example
-------
>>> format_money(-1234.4, "USD")
'$1,234'
>>> join_words(["a", "b", "c"])
'a, b and c'
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from costspine.analysis.cea import ICER_COST_PER_GAIN, ICER_DOMINANT, ICER_DOMINATED, ICER_EQUAL_EFFECT, classify_icer
from costspine.reports.workbook import CURRENCY_SYMBOLS

EFFECT_DECIMALS = 3
INDICATOR_DECIMALS = 1


@dataclass(frozen=True)
class Increment:
    """A strategy against the comparator, as the sentences read it.

    :class:`costspine.reports.run_results.StrategyResult` has the same fields, so either can be
    passed to :func:`describe_comparison`, :func:`describe_verdict` and :func:`icer_cell`.

    Attributes
    ----------
    label : str
        The strategy's label.
    incremental_cost, incremental_effect : float
        Cost and effect minus the comparator's (0 for the comparator itself).
    icer : float
        Incremental cost-effectiveness ratio against the comparator (NaN where it does not apply).
    frontier_note : str
        Off the efficiency frontier, what puts it there ('dominated by ICE', 'extendedly
        dominated'); empty on the frontier. A strategy off the frontier never has its ICER quoted
        as a price per unit of effect: the words say this instead.
    """

    label: str
    incremental_cost: float
    incremental_effect: float
    icer: float = math.nan
    frontier_note: str = ""


# ---------------------------------------------------------------------------------------- words


def format_money(value: float, currency: str) -> str:
    """``$1,234`` (``$12.50`` under 100), sign dropped: sentences say "more" or "less"."""
    value = abs(float(value))
    text = f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{currency} {text}"


def format_amount(value: float) -> str:
    """An effect difference, unsigned: three decimals, or two significant digits when smaller (0.000048)."""
    value = abs(float(value))
    if value >= 0.01 or value == 0:
        return f"{value:,.3f}"
    return f"{value:.{1 - math.floor(math.log10(value))}f}"


def in_sentence(label: str) -> str:
    """'Usual care' → 'usual care' mid-sentence; acronyms and names ('ICE', 'QALYs') stay."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def singular(unit: str) -> str:
    return unit[:-1] if unit.endswith("s") and not unit.endswith("ss") else unit


def one_line(text) -> str:
    """One line of text: whitespace runs (newlines too) become one space."""
    return " ".join(str(text).split())


def describe_horizon(settings) -> str:
    """'1 year', '20 years' or '26 weeks': the horizon as a reader would say it."""
    years = settings.n_cycles * settings.cycle_years
    rounded = round(years)
    if rounded >= 1 and abs(years - rounded) <= 0.01 * rounded:
        return f"{rounded} year" + ("s" if rounded != 1 else "")
    length = settings.n_cycles * settings.cycle_length
    return f"{length:g} {settings.cycle_unit}" + ("s" if length != 1 else "")


def describe_money(settings, effect_label: str) -> str:
    """How money and effects are counted: currency, price year and discounting."""

    def rate(value):
        return "undiscounted" if value == 0 else f"discounted at {value:.1%} a year"

    effect = in_sentence(effect_label)
    if settings.discount_costs == settings.discount_outcomes:
        counted = f"costs and {effect} {rate(settings.discount_costs)}"
    else:
        counted = f"costs {rate(settings.discount_costs)}, {effect} {rate(settings.discount_outcomes)}"
    return f"Money in {settings.currency} at {settings.price_year} prices, per patient; {counted}."


def describe_perspective(analysis) -> str:
    """Whose costs are counted, as a sentence (the wording is :attr:`Analysis.perspective_text`)."""
    return f"Perspective: {analysis.perspective_text}."


def describe_comparison(entry: Increment, comparator: Increment, *, currency: str, effect_label: str, horizon: str) -> str:
    """One strategy against the comparator, in words, from two :class:`Increment` (or ``StrategyResult``) values.

    "ICE costs $120 less and yields 0.012 more QALYs than usual care per patient over 1 year:
    it dominates usual care."
    """
    name, other = entry.label, in_sentence(comparator.label)
    effect = in_sentence(effect_label)
    unit = singular(effect)
    dc, de = entry.incremental_cost, entry.incremental_effect
    same_cost = abs(dc) < 0.005
    cost = "costs the same" if same_cost else f"costs {format_money(dc, currency)} {'more' if dc > 0 else 'less'}"
    gain = f"yields {format_amount(de)} {'more' if de > 0 else 'fewer'} {effect}"
    if de == 0:
        text = f"{name} {cost} {'as' if same_cost else 'than'} {other} per patient over {horizon}, with the same {effect}"
    elif same_cost:
        text = f"{name} costs the same as {other} and {gain} per patient over {horizon}"
    else:
        text = f"{name} {cost} and {gain} than {other} per patient over {horizon}"
    icer, case = entry.icer, classify_icer(dc, de)
    if case == ICER_DOMINANT:
        return f"{text}: it dominates {other}."
    if case == ICER_DOMINATED:
        return f"{text}: it is dominated by {other}."
    note = getattr(entry, "frontier_note", "")
    if note and de != 0:
        return f"{text}, but it is {note}: no price per {unit} is quoted for it."
    if de > 0 and icer is not None and math.isfinite(icer):
        return f"{text}: {format_money(icer, currency)} per {unit} gained."
    if de < 0 and icer is not None and math.isfinite(icer):
        return f"{text}: it saves {format_money(icer, currency)} per {unit} forgone."
    return text + "."


def describe_verdict(entry: Increment, comparator: Increment, *, currency: str, effect_label: str) -> str:
    """The short form: 'ICE dominates usual care', 'IPT: $6,276 per QALY gained over usual care'."""
    name, other = entry.label, in_sentence(comparator.label)
    unit = singular(in_sentence(effect_label))
    dc, de, icer = entry.incremental_cost, entry.incremental_effect, entry.icer
    case = classify_icer(dc, de)
    if case == ICER_DOMINANT:
        return f"{name} dominates {other}"
    if case == ICER_DOMINATED:
        return f"{name} is dominated by {other}"
    note = getattr(entry, "frontier_note", "")
    if note and de != 0:
        return f"{name} is {note}"
    if de != 0 and icer is not None and math.isfinite(icer):
        way = "gained" if de > 0 else "forgone (it costs less)"
        return f"{name}: {format_money(icer, currency)} per {unit} {way} against {other}"
    return f"{name}: the same {in_sentence(effect_label)} as {other}, {format_money(dc, currency)} {'more' if dc > 0 else 'less'}"


def icer_cell(entry: Increment, strategy: str, comparator: str, *, unit: str = "unit"):
    """The ICER as a number where it means 'cost per unit gained' by a strategy on the efficiency
    frontier, else the words for the case: 'reference', 'dominant', 'dominated', 'dominated by X',
    'extendedly dominated (...)', 'equal effect', 'saves 1,234 per QALY forgone'. Never a negative number."""
    if strategy == comparator:
        return "reference"
    icer, case = entry.icer, classify_icer(entry.incremental_cost, entry.incremental_effect)
    if case in (ICER_DOMINANT, ICER_DOMINATED):
        return case
    if case == ICER_EQUAL_EFFECT or icer is None or not math.isfinite(icer):
        return ICER_EQUAL_EFFECT
    note = getattr(entry, "frontier_note", "")
    if note:
        return note
    return float(icer) if case == ICER_COST_PER_GAIN else f"saves {icer:,.0f} per {unit} forgone"


def join_words(words: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def format_signed_money(value: float, currency: str) -> str:
    """``-$1,234`` or ``$1,234``: for amounts that may be negative (net benefit, budget differences)."""
    return ("-" if value < 0 and round(abs(value), 2) > 0 else "") + format_money(value, currency)


# ---------------------------------------------------------------------------------------- labels


def category_labels(scenario) -> dict[str, str]:
    """Category id → label: the one cost's label when a category holds one cost, else the id in words."""
    labels = {}
    for category in scenario.categories:
        costs = [c for c in scenario.costs if c.category == category]
        if len(costs) == 1 and costs[0].label and costs[0].label != costs[0].name:
            labels[category] = one_line(costs[0].label)
        else:
            labels[category] = category.replace("_", " ").capitalize()
    return unique_labels(labels)


def outcome_labels(scenario) -> dict[str, str]:
    return unique_labels({o.name: one_line(o.label or o.name) for o in scenario.outcomes})


def indicator_labels(scenario) -> dict[str, str]:
    return unique_labels({i.name: one_line(i.label or i.name) for i in scenario.indicators})


def unique_labels(labels: dict[str, str], taken=()) -> dict[str, str]:
    """Make labels distinct ignoring case (Excel headers), falling back to 'label (id)'."""
    seen = {t.casefold() for t in taken}
    out = {}
    for key, label in labels.items():
        text = label if label.casefold() not in seen else f"{label} ({key})"
        n = 2
        while text.casefold() in seen:
            text, n = f"{label} ({key} {n})", n + 1
        seen.add(text.casefold())
        out[key] = text
    return out


def describe_time(t: float) -> str:
    """'baseline', '3 months', '1 year', '2.5 years' for a report time in years."""
    if t == 0:
        return "baseline"
    months = t * 12
    if t < 1 and abs(months - round(months)) < 1e-6:
        return f"{round(months)} month" + ("s" if round(months) != 1 else "")
    return f"{t:g} year" + ("s" if t != 1 else "")


def effect_label_of(scenario, effect: str) -> str:
    return outcome_labels(scenario).get(effect, effect)
