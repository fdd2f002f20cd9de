"""Option parsing shared by several commands.
"""

from __future__ import annotations

import numpy as np

from costspine.errors import UsageError


def parse_wtp(text: str | None) -> tuple[float, ...] | None:
    """``"50000,100000"`` → ``(50000.0, 100000.0)``; None stays None."""
    if text is None:
        return None
    values = []
    for part in text.split(","):
        try:
            value = float(part.strip().replace("_", ""))
        except ValueError:
            raise UsageError(f"--wtp expects comma-separated numbers such as 50000,100000; got {part.strip()!r}") from None
        if not np.isfinite(value) or value < 0:
            raise UsageError(f"--wtp thresholds must be finite and >= 0; got {part.strip()!r}")
        values.append(value)
    return tuple(values)
