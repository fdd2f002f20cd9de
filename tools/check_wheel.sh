#!/usr/bin/env bash
# Build the wheel, install it into a fresh venv outside the checkout, and run bundled and copied
# scenarios from a temporary folder: the package must work without the repository beside it.
# Usage: tools/check_wheel.sh   (from anywhere; WHEEL_DIR and VENV_DIR override /tmp/wheel, /tmp/venv-wheel)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
wheel_dir="${WHEEL_DIR:-/tmp/wheel}"
venv_dir="${VENV_DIR:-/tmp/venv-wheel}"
# setuptools builds in the checkout's build/ (git-ignored); start clean so no stale file ships.
rm -rf "$wheel_dir" "$venv_dir" "$repo/build"
python -m pip wheel "$repo" --no-deps -w "$wheel_dir" >/dev/null
rm -rf "$repo/build"
# The venv sees the already-installed dependencies (numpy, pymc, ...) but not the checkout.
python -m venv --system-site-packages "$venv_dir"
"$venv_dir/bin/python" -m pip install --no-deps --force-reinstall "$wheel_dir"/costspine-*.whl >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
"$venv_dir/bin/python" - <<'PY'
import costspine, pathlib, sys
where = pathlib.Path(costspine.__file__).resolve()
if "site-packages" not in where.parts:
    sys.exit(f"costspine imported from {where}, not from the installed wheel")
PY
cs="$venv_dir/bin/costspine"
listing="$("$cs" scenarios)"
grep -q "^scenarios/spine/base_case.toml " <<<"$listing" || { echo "costspine scenarios lists no bundled base case: $listing" >&2; exit 1; }
"$cs" init base_case models
"$cs" run models/base_case.toml --out out/base_case --quiet
"$cs" init bia_commercial_plan models
"$cs" bia models/bia_commercial_plan.toml --out out/bia --quiet
# A copied file moved elsewhere still finds the bundled data through its package: paths.
mkdir -p elsewhere && cp models/base_case.toml elsewhere/copy.toml
"$cs" run elsewhere/copy.toml --out out/copy --quiet
"$venv_dir/bin/python" -c "from costspine.scenario.evidence import load_evidence; e = load_evidence(); assert e.scenario_path.is_file(), e.scenario_path"
echo "wheel ok: $(ls "$wheel_dir")"
