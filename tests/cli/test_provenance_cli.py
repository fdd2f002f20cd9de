"""Complete provenance: manifest.json hashes every file that can change a result, and the resolved parameters."""

import csv
import json

from helpers import ROOT, SPINE, invoke, write

LIFE_TABLE = ROOT / "costspine" / "data" / "us_life_table_2023.csv"


def _life_table_scenario(folder, factor: float):
    """A child of the spine base case whose [tables.qx] is a copy of the life table with qx times ``factor``."""
    with open(LIFE_TABLE, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["qx"] = repr(min(1.0, float(row["qx"]) * factor))
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "life.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return write(
        folder,
        f'''
        extends = "{SPINE / "base_case.toml"}"

        [tables.qx]
        file = "life.csv"
        x = "age"
        y = "qx"
        method = "linear"
        ''',
    )


def _manifest(tmp_path, scenario, name):
    out = tmp_path / name
    result = invoke("run", scenario, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    return json.loads((out / "manifest.json").read_text())


def test_the_life_table_catalogue_cpi_and_payer_tables_are_hashed(tmp_path):
    manifest = _manifest(tmp_path, _life_table_scenario(tmp_path / "a", 1.0), "a_out")
    paths = [i["path"] for i in manifest["inputs"]]
    assert str(tmp_path / "a" / "life.csv") in paths
    assert str(tmp_path / "a" / "scenario.toml") == paths[0] and str(SPINE / "base_case.toml") in paths
    for name in ("unit_costs.csv", "cpi_medical.csv", "payer_multipliers.csv"):
        assert any(p.endswith(name) for p in paths), (name, paths)
    assert len(manifest["parameters_sha256"]) == 64


def test_changing_the_life_tables_qx_changes_the_manifests_inputs(tmp_path):
    same = _manifest(tmp_path, _life_table_scenario(tmp_path / "a", 1.0), "a_out")
    again = _manifest(tmp_path, _life_table_scenario(tmp_path / "a", 1.0), "a_again")
    changed = _manifest(tmp_path, _life_table_scenario(tmp_path / "a", 20.0), "a_changed")
    assert same["inputs"] == again["inputs"]  # same files: same hashes
    life = str(tmp_path / "a" / "life.csv")
    before = {i["path"]: i["sha256"] for i in same["inputs"]}
    after = {i["path"]: i["sha256"] for i in changed["inputs"]}
    assert before.keys() == after.keys() and before[life] != after[life]
    assert {p for p in before if before[p] != after[p]} == {life}


def test_resolved_parameters_hash_follows_the_parameter_values(tmp_path):
    base = write(tmp_path / "p", f'extends = "{SPINE / "base_case.toml"}"\n', "same.toml")
    other = write(tmp_path / "p", f'extends = "{SPINE / "base_case.toml"}"\n[model]\nname = "spine_base_case"\n', "other.toml")
    a, b = _manifest(tmp_path, base, "x"), _manifest(tmp_path, other, "y")
    assert a["parameters_sha256"] == b["parameters_sha256"]  # another file, same name and values
    older = write(
        tmp_path / "p",
        f'extends = "{SPINE / "base_case.toml"}"\n[model]\nname = "spine_base_case"\n'
        '[parameters.age_start]\nvalue = 51\nsource = "assumption: test"\n',
        "older.toml",
    )
    assert _manifest(tmp_path, older, "z")["parameters_sha256"] != a["parameters_sha256"]
