"""The correlation searches and reports, run by a small SPL interpreter over events made from the
samples (times and ids moved to build each scenario), so their logic is tested, not only their
field names."""
import copy
from datetime import datetime, timezone

import pytest

from connector.splunk import cim

from .spl import expand_macros
from .spl_eval import run
from .splunk_conf import read_conf

NOW = 1_900_000_000.0          # a fixed "now" for relative_time()
MINUTE, DAY = 60, 86400


def search_of(name, macros):
    return expand_macros(read_conf("savedsearches")[name]["search"], macros).text


def iso(epoch):
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_like(processed, sourcetype, when, **changes):
    """A copy of a sample event of that sourcetype (the first matching `match`), re-timed."""
    match = changes.pop("match", {})
    source = next(e for e in processed if e.sourcetype == sourcetype
                  and all(e.value(k) == v for k, v in match.items()))
    row = copy.deepcopy(source.fields)
    row.update({k: [str(v)] for k, v in changes.items()})
    row["_time"] = when
    return row


@pytest.fixture
def secret_credential(processed_samples):
    return lambda when, **changes: event_like(processed_samples, cim.SOURCETYPE_CREDENTIAL, when,
                                              match={"credential_type": "password"}, **changes)


@pytest.fixture
def secret_signin(processed_samples):
    return lambda when, **changes: event_like(processed_samples, cim.SOURCETYPE_SIGNIN, when,
                                              match={"authentication_method": "clientSecret", "action": "success"},
                                              **changes)


ADDED_AND_USED = "Access - Entra App Secret Added And Used Within Minutes - Rule"


@pytest.mark.parametrize("first_use_after, fires", [(5 * MINUTE, True), (20 * MINUTE, False), (-MINUTE, False)])
def test_secret_added_and_used_within_minutes(macros, secret_credential, secret_signin, first_use_after, fires):
    created = NOW - 30 * MINUTE
    key = "11111111-2222-3333-4444-555555555555"
    events = [secret_credential(NOW - 10 * MINUTE, key_id=key, start_time=iso(created)),
              secret_signin(created + first_use_after, key_id=key, src="203.0.113.9"),
              secret_signin(created + first_use_after + 600, key_id=key, src="203.0.113.9")]
    results = run(search_of(ADDED_AND_USED, macros), events, NOW)
    if not fires:
        assert results == []
        return
    assert len(results) == 1
    assert results[0]["minutes_to_first_use"] == ["5"] and results[0]["key_id"] == [key]
    assert results[0]["severity"] == ["high"] and results[0]["src"] == ["203.0.113.9"]


NEW_IP = "Access - Entra App Secret Used From New Source IP - Rule"


def test_secret_used_from_a_new_source_ip(macros, secret_signin):
    key = "aaaaaaaa-2222-3333-4444-555555555555"
    events = [secret_signin(NOW - 3 * DAY, key_id=key, src="198.51.100.1"),
              secret_signin(NOW - 10 * MINUTE, key_id=key, src="198.51.100.1"),
              secret_signin(NOW - 10 * MINUTE, key_id=key, src="203.0.113.77")]
    results = run(search_of(NEW_IP, macros), events, NOW)
    assert [r["src"] for r in results] == [["203.0.113.77"]]
    assert results[0]["app_id"] == events[0]["user_id"] and results[0]["key_id"] == [key]


def test_a_secret_without_history_has_no_new_ip(macros, secret_signin):
    events = [secret_signin(NOW - 10 * MINUTE, key_id="bbbbbbbb-2222-3333-4444-555555555555", src="203.0.113.77")]
    assert run(search_of(NEW_IP, macros), events, NOW) == []


NEW_SECRET = "Access - Entra App New Client Secret Added - Rule"


def test_a_new_secret_key_id_is_reported_but_not_on_the_first_inventory(macros, secret_credential):
    old, new = "cccccccc-2222-3333-4444-555555555555", "dddddddd-2222-3333-4444-555555555555"
    events = [secret_credential(NOW - 3 * DAY, key_id=old), secret_credential(NOW - 10 * MINUTE, key_id=old),
              secret_credential(NOW - 10 * MINUTE, key_id=new)]
    results = run(search_of(NEW_SECRET, macros), events, NOW)
    assert [r["key_id"] for r in results] == [[new]]
    assert results[0]["mitre_technique_id"] == ["T1098.001"]
    first_inventory = [secret_credential(NOW - 10 * MINUTE, key_id=old), secret_credential(NOW - 10 * MINUTE, key_id=new)]
    assert run(search_of(NEW_SECRET, macros), first_inventory, NOW) == []


def test_a_new_symmetric_key_counts_as_a_new_secret(macros, secret_credential):
    """A Symmetric keyCredential is a shared secret: the findings report it, so the detections see it."""
    old, new = "cccccccc-2222-3333-4444-555555555555", "eeeeeeee-2222-3333-4444-555555555555"
    events = [secret_credential(NOW - 3 * DAY, key_id=old),
              secret_credential(NOW - 10 * MINUTE, key_id=new, credential_type="symmetric_key"),
              secret_credential(NOW - 10 * MINUTE, key_id="ffffffff-2222-3333-4444-555555555555",
                                credential_type="certificate")]
    assert [r["key_id"] for r in run(search_of(NEW_SECRET, macros), events, NOW)] == [[new]]


def test_a_symmetric_key_added_and_used_within_minutes_fires(macros, secret_credential, secret_signin):
    key = "abababab-2222-3333-4444-555555555555"
    created = NOW - 30 * MINUTE
    events = [secret_credential(NOW - 20 * MINUTE, key_id=key, credential_type="symmetric_key",
                                start_time=iso(created)),
              secret_signin(created + 4 * MINUTE, key_id=key)]
    assert [r["key_id"] for r in run(search_of(ADDED_AND_USED, macros), events, NOW)] == [[key]]


def findings(processed):
    return [dict(copy.deepcopy(e.fields), _time=NOW - 5 * MINUTE)
            for e in processed if e.sourcetype == cim.SOURCETYPE_FINDING]


def test_one_notable_per_secret_with_the_findings_severity_and_score(macros, processed_samples):
    rows = findings(processed_samples)
    repeated = [dict(copy.deepcopy(r), _time=NOW - 65 * MINUTE) for r in rows]   # the previous run
    results = run(search_of("Access - Entra App Client Secret In Use (CTD-000008) - Rule", macros),
                  rows + repeated, NOW)
    assert sorted(r["id"][0] for r in results) == sorted(r["id"][0] for r in rows)
    by_id = {r["id"][0]: r for r in rows}
    for result in results:
        assert result["severity"] == by_id[result["id"][0]]["severity"]
        assert result["risk_score"] == by_id[result["id"][0]]["risk_score"]


def test_service_principal_object_rule_sees_only_those_secrets(macros, processed_samples):
    rows = findings(processed_samples)
    results = run(search_of("Access - Entra Client Secret On Service Principal Object - Rule", macros), rows, NOW)
    expected = {r["id"][0] for r in rows if r["object_type"] == ["servicePrincipal"]}
    assert expected and {r["id"][0] for r in results} == expected


def test_unused_for_90_days_report(macros, processed_samples):
    template = findings(processed_samples)[0]
    stale = dict(copy.deepcopy(template), id=["stale"], age_days=["200"])
    stale.pop("last_used", None)
    used_long_ago = dict(copy.deepcopy(template), id=["long-ago"], age_days=["400"], last_used=[iso(NOW - 120 * DAY)])
    used_lately = dict(copy.deepcopy(template), id=["lately"], age_days=["400"], last_used=[iso(NOW - 3 * DAY)])
    young = dict(copy.deepcopy(template), id=["young"], age_days=["10"])
    young.pop("last_used", None)
    results = run(search_of("Entra App Secrets - Secrets unused for 90 days", macros),
                  [stale, used_long_ago, used_lately, young], NOW)
    assert sorted(r["age_days"][0] for r in results) == ["200", "400"]


def dashboard_query(view, ds_id):
    from .test_dashboards import VIEWS_DIR, full_query, load
    _, definition = load(VIEWS_DIR / f"{view}.xml")
    query = full_query(definition["dataSources"], ds_id)
    return query.replace('account="$account$"', 'account="*"')     # the account picker's default: all


def test_overview_tells_apps_on_secrets_from_migrated_ones(macros, processed_samples):
    template = next(e for e in processed_samples if e.sourcetype == cim.SOURCETYPE_CREDENTIAL)

    def credential(app_id, key_id, credential_type):
        return dict(copy.deepcopy(template.fields), app_id=[app_id], key_id=[key_id], object_id=[app_id],
                    credential_type=[credential_type], _time=NOW - MINUTE)
    events = [credential("app-secret-only", "k1", "password"), credential("app-secret-only", "k2", "password"),
              credential("app-migrating", "k3", "password"), credential("app-migrating", "k4", "certificate"),
              credential("app-migrated", "k5", "federated"), credential("app-migrated", "k5", "federated")]
    query = expand_macros(dashboard_query("entra_app_secrets_overview", "ds_migration"), macros).text
    results = {r["posture"][0]: r["apps"] for r in run(query, events, NOW)}
    assert results == {"Client secrets only": ["1"], "Secrets plus certificate or federated credential": ["1"],
                       "Certificate or federated credential only": ["1"]}


def test_overview_expiring_soon_lists_only_live_secrets_within_30_days(macros, processed_samples):
    template = findings(processed_samples)[0]

    def finding(finding_id, days, expired="false", never="false"):
        return dict(copy.deepcopy(template), id=[finding_id], days_to_expiry=[str(days)], expired=[expired],
                    never_expires=[never])
    events = [finding("soon", 12), finding("sooner", 3), finding("later", 45), finding("gone", -2, expired="true"),
              finding("never", 30000, never="true")]
    query = expand_macros(dashboard_query("entra_app_secrets_overview", "ds_expiring"), macros).text
    assert [r["days_to_expiry"] for r in run(query, events, NOW)] == [["3"], ["12"]]
