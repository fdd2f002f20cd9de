"""Fuzz the scenario loader: whatever a user writes, the only failure is a ScenarioError.

Start from the bundled Chancellor scenario (parsed to a dict), apply random mutations — delete
keys, replace values with wrong types, NaN, infinities, huge numbers, unicode and garbage
expressions, add unknown keys, point ``extends`` at nonsense — write the result back as TOML with
the tiny writer below, then load it with :func:`costspine.scenario.load_scenario` and, when that
succeeds, evaluate it with :func:`costspine.model.build_model_inputs`.

The property: either both succeed, or a :class:`~costspine.errors.ScenarioError` is raised whose
every problem names the file. Anything else (KeyError, OverflowError, ZeroDivisionError, ...) is a
bug in the loader.
"""

from __future__ import annotations

import copy
import math
import re
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from costspine.errors import ScenarioError
from costspine.model.inputs import build_model_inputs
from costspine.scenario.load import load_scenario

from helpers import CHANCELLOR

BASE = tomllib.loads(CHANCELLOR.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------------
# A tiny TOML writer: every top-level key on one line, nested tables as inline tables.

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def write_toml(data: dict) -> str:
    return "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in data.items())


def test_writer_round_trips_the_chancellor_scenario():
    # The writer is part of the test; check it before trusting it.
    assert tomllib.loads(write_toml(BASE)) == BASE
    odd = {"a b": {"ü": [1, 2.5, float("inf"), -3]}, "s": 'q"\\\n\x00\x7fé', "t": True, "n": {"": {}}}
    back = tomllib.loads(write_toml(odd))
    assert back["a b"] == odd["a b"] and back["s"] == odd["s"] and back["t"] is True and back["n"] == {"": {}}
    assert math.isnan(tomllib.loads(write_toml({"x": float("nan")}))["x"])


# ------------------------------------------------------------------------------------------------
# Mutations

GARBAGE_EXPRESSIONS = [
    "",
    "   ",
    "p_AB *",
    "p_AB * * 2",
    "__import__('os').system('true')",
    "__import__(1)",
    "os.path",
    "p_AB.real",
    "[1, 2]",
    "{1: 2}",
    "lambda x: x",
    "x[0]",
    "1/0",
    "log(-1)",
    "log(0)",
    "exp(1000)",
    "10 ** 400",
    "1" + "0" * 400,
    "1e999",
    "rest",
    "rest + 1",
    "REST",
    "min(1)",
    "max()",
    "where(1, 2)",
    "clip(1)",
    "qx(1)",
    "unknown_name",
    "cycle",
    "time_years * 1e308",
    "p_AB if cycle else",
    "not",
    "(" * 80 + "1" + ")" * 80,
    "-" * 500 + "1",
    "x" * 3000,
    "ß + π",
    "rr_now ** -1",
    "0 ** -1",
    "'text'",
    "True",
    "None",
    "p_AB @ p_AC",
    "p_AB // 2",
    "a := 1",
    "yield",
    "f(x=1)",
    "exp(*p)",
    "\x00",
    "1;2",
    "#",
    "p_AB < p_AC < rr",
    "rate_to_prob(-1, 1)",
    "prob_to_rate(2, 0)",
]

NASTY_NUMBERS = [
    0,
    -1,
    1,
    2,
    3.5,
    100,
    1000,
    -1000,
    2**63 - 1,
    -(2**63),
    10**20,
    10**400,
    -(10**400),
    float("nan"),
    float("inf"),
    float("-inf"),
    1e308,
    -1e308,
    1e200,
    1e-200,
    1e-320,
    5e-324,
]
TEXT = st.characters(exclude_categories=("Cs",))  # any unicode that UTF-8 can encode
NASTY = st.sampled_from(NASTY_NUMBERS + GARBAGE_EXPRESSIONS)
SCALARS = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(TEXT, max_size=30),
    st.text(st.characters(min_codepoint=0x80, max_codepoint=0x2FFFF, exclude_categories=("Cs",)), min_size=1, max_size=10),
)
COMPOUND = st.recursive(
    st.one_of(NASTY, SCALARS),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(TEXT, max_size=8), inner, max_size=3)),
    max_leaves=6,
)
VALUES = st.one_of(NASTY, NASTY, SCALARS, COMPOUND)  # about half the draws are the nasty list


def _paths(node, prefix=()):
    """Path of every entry in the document (tables and arrays alike)."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield prefix + (key,)
        yield from _paths(value, prefix + (key,))


def _get(node, path):
    for part in path:
        node = node[part]
    return node


def _perturb(data, value):
    """Keep the shape of a leaf but make it wrong: scale a number, break or inflate an expression."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value * data.draw(st.sampled_from([-1, 0, 10**30, 10**400]), label="factor")
    if isinstance(value, float):
        return value * data.draw(st.sampled_from([-1.0, 0.0, 1e300, float("inf"), float("nan")]), label="factor")
    text = str(value)
    return data.draw(
        st.sampled_from(
            [
                text + " *",
                "(" + text,
                text + ")",
                f"({text}) * 1e308",
                f"({text}) / 0",
                f"-({text})",
                f"{text} + unknown",
                f"{text}.x",
                f"{text}[0]",
                text.upper(),
                text + "é",
                f"{text} ** 1e6",
                f"where({text})",
            ]
        ),
        label="perturbed",
    )


# Valid optional sections the Chancellor file does not use, so the fuzz reaches their readers too.
EXTRAS = {
    "correlations": lambda d: d.__setitem__(
        "correlations", [{"parameters": ["c_direct_A", "c_direct_B"], "matrix": [[1, 0.5], [0.5, 1]], "source": "assumption"}]
    ),
    "table": lambda d: (
        d.__setitem__("tables", {"qx": {"file": "qx.csv", "x": "age", "y": "qx", "method": "linear"}}),
        d["transitions"]["A"].__setitem__("D", "max(p_AD * rr_now, qx(40 + time_years))"),
    ),
    "derived": lambda d: (
        d["parameters"].__setitem__("c_A", {"value": "c_direct_A + c_community_A", "source": "derived"}),
        d["costs"]["direct_medical"]["values"].__setitem__("A", "c_A - c_community_A"),
    ),
    "indicator": lambda d: d.__setitem__("indicators", {"cd4_band": {"values": {"A": 1, "B": 2, "C": 3}}}),
    "on_entry": lambda d: d["costs"].__setitem__("aids_diagnosis", {"category": "events", "on_entry": {"C": 500}}),
    "own_rows": lambda d: d["strategies"]["comb"].__setitem__("transitions", {"D": {"D": "1"}}),
    "normal": lambda d: d["parameters"].__setitem__("u", {"distribution": "normal", "mean": 0.5, "sd": 0.1, "source": "x"}),
    "beta": lambda d: d["parameters"].__setitem__("b", {"distribution": "beta", "mean": 0.5, "sd": 0.1, "source": "x"}),
    "triangular": lambda d: d["parameters"].__setitem__(
        "t", {"distribution": "triangular", "min": 0, "mode": 1, "max": 3, "source": "x"}
    ),
}


def _mutate(data, doc: dict) -> str:
    kind = data.draw(st.sampled_from(["delete", "replace", "replace", "perturb", "perturb", "add", "extends"]), label="mutation")
    if kind == "extends":
        doc["extends"] = data.draw(
            st.one_of(
                st.text(TEXT, max_size=20),
                VALUES,
                st.sampled_from(
                    [
                        "",
                        " ",
                        ".",
                        "..",
                        "/",
                        "nonexistent.toml",
                        "fuzzed.toml",
                        "../" * 30 + "etc/passwd",
                        "a\x00b.toml",
                        "/dev/null",
                        "x" * 300,
                    ]
                ),
            ),
            label="extends",
        )
        return f"extends = {doc['extends']!r}"
    paths = list(_paths(doc))
    leaves = [p for p in paths if not isinstance(_get(doc, p), (dict, list))]
    if kind == "add":
        tables = [()] + [p for p in paths if isinstance(_get(doc, p), dict)]
        where = data.draw(st.sampled_from(tables), label="table")
        key = data.draw(st.text(TEXT, min_size=1, max_size=12), label="new key")
        value = data.draw(VALUES, label="value")
        _get(doc, where)[key] = value
        return f"add {where}+{key!r} = {value!r}"
    path = data.draw(st.sampled_from(leaves if kind != "delete" and data.draw(st.booleans()) else paths), label="path")
    parent = _get(doc, path[:-1])
    if kind == "delete":
        if isinstance(parent, list):
            parent.pop(path[-1])
        else:
            del parent[path[-1]]
        return f"delete {path}"
    if kind == "perturb" and path in leaves:
        parent[path[-1]] = _perturb(data, parent[path[-1]])
    else:
        parent[path[-1]] = data.draw(VALUES, label="value")
    return f"{kind} {path} = {parent[path[-1]]!r}"


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "qx.csv").write_text("age,qx\n0,0.001\n50,0.01\n100,0.5\n", encoding="utf-8")
    return folder


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_loader_raises_only_scenario_errors(fuzz_dir, data):
    doc = copy.deepcopy(BASE)
    for extra in data.draw(st.lists(st.sampled_from(sorted(EXTRAS)), unique=True, max_size=3), label="extras"):
        EXTRAS[extra](doc)
    n_mutations = data.draw(st.integers(min_value=1, max_value=4), label="n_mutations")
    log = [_mutate(data, doc) for _ in range(n_mutations)]
    path = fuzz_dir / "fuzzed.toml"
    path.write_text(write_toml(doc), encoding="utf-8")
    extends = doc.get("extends")
    files = [str(path)] + ([str(fuzz_dir / extends)] if isinstance(extends, str) and "\x00" not in extends else [])
    try:
        scenario = load_scenario(path)
        build_model_inputs(scenario)
    except ScenarioError as exc:
        assert exc.problems, log
        for problem in exc.problems:
            # every problem names a file: the fuzzed one, or the one its `extends` points at
            assert any(problem.where.startswith(f) for f in files) or "\x00" in str(extends), (problem, log)
            assert problem.message.strip(), (problem, log)
    except Exception as exc:  # anything else is a loader bug: show what the file looked like
        exc.add_note("mutations: " + "; ".join(log))
        raise


@pytest.mark.parametrize("extras", [[], *[[name] for name in sorted(EXTRAS)], sorted(EXTRAS)])
def test_unmutated_documents_load(fuzz_dir, extras):
    # Control for the fuzz test: with the extra sections but no mutation the written file is valid.
    doc = copy.deepcopy(BASE)
    for extra in extras:
        EXTRAS[extra](doc)
    path = fuzz_dir / f"valid_{'_'.join(extras) or 'base'}.toml"
    path.write_text(write_toml(doc), encoding="utf-8")
    build_model_inputs(load_scenario(path))
