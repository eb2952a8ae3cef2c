"""savedsearches.conf: ES correlation searches and plain reports, cross-checked against the macros,
the fields the add-on emits, and the alert actions the response part declares."""
import json
import re

import pytest

from .spl import SplError, analyze, expand_macros
from .splunk_conf import read_conf

INDEX_MACRO = "entra_app_secrets_index"
RESPONSE_ACTIONS = {"entra_remove_secret", "entra_disable_app"}
TOKEN = re.compile(r"\$([A-Za-z_][\w.]*)\$")
# ES's own tokens, not result fields
ES_TOKENS = {"info_min_time", "info_max_time"}


def saved_searches():
    return read_conf("savedsearches")


def correlation_searches():
    return {name: s for name, s in saved_searches().items() if s.get("action.correlationsearch.enabled") == "1"}


@pytest.mark.parametrize("name", sorted(saved_searches()))
def test_search_starts_from_the_index_macro_and_reads_only_emitted_fields(name, macros, emitted_fields):
    stanza = saved_searches()[name]
    expansion = expand_macros(stanza["search"], macros)
    assert INDEX_MACRO in expansion.macros_used, f"{name} does not use `{INDEX_MACRO}`"
    analysis = analyze(expansion.text)
    unknown = analysis.read - emitted_fields
    assert not unknown, f"{name} reads fields no sourcetype emits: {sorted(unknown)}"
    assert stanza.get("disabled") == "1", f"{name} must ship disabled"


@pytest.mark.parametrize("name", sorted(correlation_searches()))
def test_correlation_search_makes_a_complete_notable_and_risk(name, macros, emitted_fields):
    stanza = correlation_searches()[name]
    output = analyze(expand_macros(stanza["search"], macros).text).output
    assert output is not None, f"{name} must end in a table or stats so its results are known"
    assert {"severity", "risk_score", "app_id"} <= output, f"{name}: results need severity, risk_score, app_id"
    for key in ("rule_title", "rule_description", "security_domain", "severity", "drilldown_name",
                "drilldown_search", "recommended_actions"):
        assert stanza.get(f"action.notable.param.{key}"), f"{name}: notable {key} missing"
    assert stanza["action.notable.param.severity"] in ("informational", "low", "medium", "high", "critical")
    assert set(stanza["action.notable.param.recommended_actions"].split(",")) >= RESPONSE_ACTIONS
    # every $token$ of the notable and of the risk message is a result field
    for key in ("action.notable.param.rule_title", "action.notable.param.rule_description",
                "action.notable.param.drilldown_name", "action.notable.param.drilldown_search",
                "action.risk.param._risk_message"):
        missing = set(TOKEN.findall(stanza[key])) - output - ES_TOKENS
        assert not missing, f"{name}: {key} uses {sorted(missing)}, not in the results {sorted(output)}"
    # suppression per app and key id
    assert stanza["alert.suppress"] == "1"
    suppress = set(stanza["alert.suppress.fields"].split(","))
    assert {"app_id", "key_id"} <= suppress <= output
    assert set(stanza["action.notable.param.nes_fields"].split(",")) == suppress
    # the drilldown search is a search of ours too
    drilldown = expand_macros(TOKEN.sub("x", stanza["action.notable.param.drilldown_search"]), macros)
    assert INDEX_MACRO in drilldown.macros_used
    assert not analyze(drilldown.text).read - emitted_fields
    # risk on the app object, threat objects from result fields
    risk = json.loads(stanza["action.risk.param._risk"])
    objects = [r for r in risk if "risk_object_field" in r]
    assert [r["risk_object_field"] for r in objects] == ["app_id"]
    for entry in risk:
        assert entry.get("risk_object_field", entry.get("threat_object_field")) in output
    annotations = json.loads(stanza["action.correlationsearch.annotations"])
    assert annotations["mitre_attack"]
    if "action.notable.param.next_steps" in stanza:
        steps = json.loads(stanza["action.notable.param.next_steps"])
        assert set(re.findall(r"\[\[action\|(\w+)\]\]", steps["data"])) <= RESPONSE_ACTIONS


def test_the_required_correlation_searches_exist():
    searches = correlation_searches()
    mitre = {name: json.loads(s["action.correlationsearch.annotations"])["mitre_attack"]
             for name, s in searches.items()}
    labels = " | ".join(searches)
    assert any("CTD-000008" in name for name in searches)
    assert any("T1098.001" in techniques and "New Client Secret" in name for name, techniques in mitre.items())
    for words in ("New Source IP", "Added And Used Within Minutes", "Service Principal Object"):
        assert words in labels, words


def test_recommended_actions_are_declared_by_the_response_part():
    declared = set(read_conf("alert_actions"))
    if not declared:
        pytest.fail("default/alert_actions.conf is missing: the notables recommend actions that must exist")
    for name, stanza in correlation_searches().items():
        assert set(stanza["action.notable.param.recommended_actions"].split(",")) <= declared, name


def test_plain_reports_exist_for_splunk_without_es():
    reports = {name: s for name, s in saved_searches().items() if name not in correlation_searches()}
    assert len(reports) >= 4
    for name, stanza in reports.items():
        assert not any(key.startswith(("action.notable", "action.risk", "action.correlationsearch"))
                       for key in stanza), f"{name} is a plain report: no ES actions"


def test_every_macro_is_defined_and_undefined_ones_are_caught(macros):
    for name, stanza in read_conf("macros").items():
        expand_macros(stanza["definition"], macros)
    with pytest.raises(SplError):
        expand_macros("`entra_app_secrets_nope`", macros)


def test_the_field_check_can_fail(macros, emitted_fields):
    analysis = analyze(expand_macros('`entra_app_secrets_findings` | stats count by secret_value', macros).text)
    assert analysis.read - emitted_fields == {"secret_value"}
    with pytest.raises(SplError):   # a search term after a macro that ends in a command
        analyze(expand_macros('`entra_app_secrets_current_findings` severity="high"', macros).text)
