"""The ``draws.npz`` store of a PSA: :func:`save_draws` writes it, :func:`load_psa_draws` reads it back.

``costspine psa`` writes the file into its results folder; ``costspine voi`` and external-draw
analyses read it. The arrays are stored as they are and everything else as one JSON description
(with a format number, so a file from an incompatible costspine is refused).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from costspine.analysis.psa_result import PSAResult
from costspine.errors import UsageError

DRAWS_FILE = "draws.npz"

DRAWS_FORMAT = 1


def _encode_draws(draws: PSAResult) -> bytes:
    """The ``draws.npz`` file's bytes (see :func:`save_draws`)."""
    buffer = io.BytesIO()
    save_draws(draws, buffer)
    return buffer.getvalue()


def save_draws(draws: PSAResult, handle) -> None:
    """Write ``draws`` as ``draws.npz`` (the arrays and a JSON description) into the binary file ``handle``."""
    meta = {
        "format": DRAWS_FORMAT,
        "scenario": draws.scenario,
        "title": draws.title,
        "currency": draws.currency,
        "effect": draws.effect_name,
        "strategies": list(draws.strategies),
        "strategy_labels": draws.strategy_labels,
        "comparator": draws.comparator,
        "wtp": list(draws.wtp),
        "categories": list(draws.categories),
        "outcomes": list(draws.outcome_names),
        "parameter_names": list(draws.parameter_names),
        "parameter_groups": draws.parameter_groups,
        "seed": draws.seed,
        "discount_outcomes": draws.discount_outcomes,
        "inputs": [list(i) for i in draws.inputs],
        "extra": draws.extra,
    }
    np.savez(
        handle,
        parameters=draws.parameters,
        costs=draws.costs,
        outcomes=draws.outcomes,
        meta=np.array(json.dumps(meta, default=float)),
    )


def load_psa_draws(results_dir) -> PSAResult:
    """Read the ``draws.npz`` that ``costspine psa`` wrote into ``results_dir``."""
    path = Path(results_dir) / DRAWS_FILE
    if not path.is_file():
        raise UsageError(
            f"{path}: not found; RESULTS_DIR must be a folder written by `costspine psa` (e.g. reports/<scenario>/psa)"
        )
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {k: data[k] for k in ("parameters", "costs", "outcomes")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise UsageError(
            f"{path}: cannot read the PSA draws ({type(exc).__name__}: truncated or corrupt?); rerun `costspine psa`"
        ) from None
    if meta.get("format") != DRAWS_FORMAT:
        raise UsageError(f"{path}: written by an incompatible costspine (format {meta.get('format')!r}); rerun `costspine psa`")
    return PSAResult(
        scenario=meta["scenario"],
        title=meta["title"],
        currency=meta["currency"],
        effect_name=meta["effect"],
        strategies=tuple(meta["strategies"]),
        strategy_labels=meta["strategy_labels"],
        comparator=meta["comparator"],
        wtp=tuple(meta["wtp"]),
        categories=tuple(meta["categories"]),
        outcome_names=tuple(meta["outcomes"]),
        parameter_names=tuple(meta["parameter_names"]),
        parameter_groups=meta["parameter_groups"],
        parameters=arrays["parameters"],
        costs=arrays["costs"],
        outcomes=arrays["outcomes"],
        seed=int(meta["seed"]),
        discount_outcomes=float(meta["discount_outcomes"]),
        inputs=[tuple(i) for i in meta["inputs"]],
        extra=meta["extra"],
    )
