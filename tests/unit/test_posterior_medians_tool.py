"""tools/posterior_medians.py: rewrites only the ``value`` lines of the named parameter tables."""

import importlib.util

from helpers import ROOT


def load_tool():
    spec = importlib.util.spec_from_file_location("posterior_medians", ROOT / "tools" / "posterior_medians.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_set_values_rewrites_value_lines_of_the_named_tables_only():
    tool = load_tool()
    text = (
        '[parameters.a]\ndistribution = "posterior"\nvalue = 1.5  # base case\nsource = "x"\n\n'
        "[parameters.b]\nvalue = 2\n\n[values]\nvalue = 7\n"
    )
    new, missing = tool.set_values(text, {"a": "1.25", "c": "3"})
    assert new == text.replace("value = 1.5  # base case", "value = 1.25  # base case")
    assert missing == ["c"]  # inherited from a parent: the tool appends a posterior table for it
    new, missing = tool.set_values(text, {"b": "4"})
    assert "[parameters.b]\nvalue = 4\n" in new and "[values]\nvalue = 7\n" in new and missing == []


def test_six_significant_digits():
    tool = load_tool()
    assert tool.format_value(0.848563547) == "0.848564" and tool.format_value(5.268334518) == "5.26833"
