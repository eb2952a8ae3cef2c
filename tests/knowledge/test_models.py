"""The small Splunk models the knowledge tests rely on: SPL field analysis, JSON extraction naming,
props application, conf reading."""
import pytest

from .search_time import apply_props, json_fields
from .spl import SplError, analyze, expand_macros, split_pipeline
from .splunk_conf import Macro


def test_stats_keeps_only_its_outputs_and_by_fields():
    result = analyze('index=* sourcetype="x" a="1" | stats count dc(b) as kinds by c | table c kinds count')
    assert result.read == {"a", "b", "c"}
    assert result.output == {"c", "kinds", "count"}


def test_a_field_dropped_by_stats_cannot_be_used_later():
    with pytest.raises(SplError):
        analyze("index=* | stats count by c | table c d")


def test_eval_and_rename_define_fields_and_read_their_inputs():
    result = analyze('index=* | eval e=if(x="y", round(z, 1), null()), f=\'g{}.h\' | rename e as renamed '
                     '| where renamed > 2 AND w IN ("a", "b") | table renamed f')
    assert result.read == {"x", "z", "g{}.h", "w"}
    assert result.output == {"renamed", "f"}


def test_pipes_inside_quotes_and_brackets_do_not_split():
    assert split_pipeline('index=* a="x|y" | eval b=if(c=="|", 1, 0)') == ['index=* a="x|y"', 'eval b=if(c=="|", 1, 0)']


def test_unknown_commands_are_refused():
    with pytest.raises(SplError):
        analyze("index=* | transaction a")


def test_macros_with_arguments_expand_and_are_recorded():
    macros = {("outer", 0): Macro("outer", 0, [], "`inner(q)` z=1"),
              ("inner", 1): Macro("inner", 1, ["field"], "$field$=2")}
    expansion = expand_macros("`outer` | table q", macros)
    assert expansion.text == "q=2 z=1 | table q"
    assert expansion.macros_used == ["outer", "inner"]


def test_json_extraction_names_like_splunk():
    fields = json_fields({"a": {"b": 1}, "c": ["x", "y"], "d": [{"e": True}], "n": None})
    assert fields == {"a.b": ["1"], "c{}": ["x", "y"], "d{}.e": ["true"]}


def test_props_aliases_then_evals_from_the_same_input():
    props = {"FIELDALIAS-a": "src_ip AS src", "EVAL-list": "'list{}'", "EVAL-vendor": '"Acme"'}
    fields = apply_props({"src_ip": ["1.2.3.4"], "list{}": ["p", "q"]}, props)
    assert fields["src"] == ["1.2.3.4"] and fields["list"] == ["p", "q"] and fields["vendor"] == ["Acme"]
    with pytest.raises(ValueError):
        apply_props({}, {"EVAL-x": "lower(y)"})
