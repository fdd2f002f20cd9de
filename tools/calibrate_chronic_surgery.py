"""Calibrate the chronic pathway's spine-surgery rate to the published US operation volume.

Usage::

    python tools/calibrate_chronic_surgery.py            # print the target, the fit and the rate
    python tools/calibrate_chronic_surgery.py --write    # ... and write the rate into the file

Without ``--write`` the script exits with status 1 when ``surgery_year`` in
``scenarios/spine/chronic_pathway.toml`` differs from a fresh calibration by more than 0.5 %.

Target (operations per 1,000 adult members a year, commercial plan, adults under 65), from the
evidence register (costspine/data/evidence.csv):

- elective lumbar fusion for degenerative diagnoses: 79.8 per 100,000 adults in 2015, 170.3 at 65 or
  older (Martin 2019, T11.18); under 65 = (79.8 - s x 170.3) / (1 - s) with s, the share of adults
  aged 65 or older, about a fifth (assumption: 0.2);
- other lumbar surgery (decompression, discectomy), inpatient and outpatient: 201 per 100,000 adults
  in 2000 for all lumbar degenerative surgery (Gray 2006, T11.19), less the fusions among them
  (about 50 per 100,000 in 2000, assumption: below the 60.4 of 2004, T11.18) = 150; inpatient
  discectomies and laminectomies fell from 2003 to 2012 (T11.21) while outpatient ones rose (T11.19),
  so the 2000 rate is kept (assumption);
- cervical surgery for degenerative conditions: 72.2 per 100,000 adults in 2013 (Liu 2017, T11.20).

The plan's operations are linear in ``surgery_year`` (the chronic group's band mix is stationary and
its size does not depend on surgery), so one run gives the closed form::

    surgery_year = (target - acute operations per 1,000) / (chronic operations per 1,000 / surgery_year)

where the acute operations are those of new episodes in their first year (the SPINE CARE pathway
model, not calibrated here). Deterministic; runs the bundled commercial plan once (base case, year 1).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import costspine  # noqa: E402
from costspine import load_scenario  # noqa: E402

CHRONIC = ROOT / "scenarios" / "spine" / "chronic_pathway.toml"
PLAN = ROOT / "scenarios" / "spine" / "bia_commercial_plan.toml"

SHARE_65_PLUS = 0.2  # assumption: share of US adults aged 65 or older (about a fifth in 2015)
LUMBAR_FUSION_ALL = 79.8  # per 100,000 adults, 2015 (T11.18)
LUMBAR_FUSION_65 = 170.3  # per 100,000 adults 65+, 2015 (T11.18)
LUMBAR_ALL_2000 = 201.0  # per 100,000 adults, inpatient and outpatient, 2000 (T11.19)
LUMBAR_FUSION_2000 = 50.0  # assumption: fusions in 2000, below the 60.4 of 2004 (T11.18)
CERVICAL = 72.2  # per 100,000 adults, 2013 (T11.20)
CERVICAL_FUSION_SHARE = 0.806  # anterior fusion share of cervical operations (T11.20)


def target_per_1000() -> dict[str, float]:
    """The target's parts, operations per 1,000 adults under 65 a year."""
    fusion = (LUMBAR_FUSION_ALL - SHARE_65_PLUS * LUMBAR_FUSION_65) / (1 - SHARE_65_PLUS) / 100
    other_lumbar = (LUMBAR_ALL_2000 - LUMBAR_FUSION_2000) / 100
    cervical = CERVICAL / 100
    return {"lumbar fusion": fusion, "other lumbar": other_lumbar, "cervical": cervical}


def fusion_share() -> float:
    """Share of the target's operations that are fusions (lumbar, and anterior cervical)."""
    parts = target_per_1000()
    return (parts["lumbar fusion"] + CERVICAL_FUSION_SHARE * parts["cervical"]) / sum(parts.values())


def operations_per_1000() -> tuple[float, float, float]:
    """Year-1 base-case operations per 1,000 members: (acute, chronic, the file's surgery_year)."""
    run = costspine.bia(PLAN).runs[0]
    members = float(run.members_by_year[0])
    acute, chronic = (
        float(seg.budget.services_current[0, 0, list(seg.budget.services).index("surgeries")]) / members * 1000
        for seg in run.segments
    )
    rate = float(load_scenario(CHRONIC).parameter("surgery_year").value)
    return acute, chronic, rate


def main(argv: list[str]) -> int:
    write = "--write" in argv
    parts = target_per_1000()
    target = sum(parts.values())
    acute, chronic, rate = operations_per_1000()
    patient_years = chronic / rate
    calibrated = (target - acute) / patient_years
    print("target, operations per 1,000 adult members a year (under 65):")
    for name, value in parts.items():
        print(f"  {name:<14} {value:.3f}")
    print(f"  {'total':<14} {target:.3f}  (fusion share {fusion_share():.3f})")
    print(
        f"model, year 1: new episodes {acute:.3f}, chronic {chronic:.3f} (surgery_year {rate:.4f}), total {acute + chronic:.3f}"
    )
    print(f"chronic patient-years per 1,000 members in year 1: {patient_years:.2f}")
    print(f"calibrated surgery_year = ({target:.3f} - {acute:.3f}) / {patient_years:.2f} = {calibrated:.4f}")
    if write:
        value = f"{calibrated:.4f}"
        sd = f"{calibrated / 2:.4f}"
        text = CHRONIC.read_text(encoding="utf-8")
        block = re.compile(r"(\[parameters\.surgery_year\]\nvalue = )[\d.]+(\n.*?\nmean = )[\d.]+(\nsd = )[\d.]+", re.S)
        text, n = block.subn(rf"\g<1>{value}\g<2>{value}\g<3>{sd}", text)
        if n != 1:
            print("could not find [parameters.surgery_year] in", CHRONIC, file=sys.stderr)
            return 2
        CHRONIC.write_text(text, encoding="utf-8")
        print(f"wrote surgery_year = {value} (gamma SD {sd}) into {CHRONIC.relative_to(ROOT)}")
        return 0
    return 0 if abs(calibrated - rate) <= 0.005 * calibrated else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
