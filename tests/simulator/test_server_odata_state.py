"""The pieces under the routes: the $filter grammar, signed cursors, token buckets and the state overlay."""
import datetime

import pytest

from entra_simulator.graph_errors import GraphError
from entra_simulator.odata import (QuerySpec, TokenSigner, advanced_operator, equality_values, matches, parse_filter,
                                   parse_query_string)
from entra_simulator.state import APPLICATIONS, SERVICE_PRINCIPALS
from entra_simulator.throttling import ThrottleLimits, TokenBucket

SPEC = QuerySpec("microsoft.graph.test", filters={"displayName": ("eq", "startswith"), "appId": ("eq",),
                                                  "createdDateTime": ("ge", "le"), "signInEventTypes": ("any",),
                                                  "status/errorCode": ("eq",)})


@pytest.mark.parametrize("text, item, expected", [
    ("displayName eq 'O''Brien'", {"displayName": "o'brien"}, True),   # escaped quote; case-insensitive
    ("startswith(displayName,'leg')", {"displayName": "Legacy tool"}, True),
    ("(appId eq 'a') or (appId eq 'b')", {"appId": "b"}, True),
    ("not (appId eq 'a')", {"appId": "a"}, False),
    ("status/errorCode eq 0", {"status": {"errorCode": 0}}, True),
    ("signInEventTypes/any(t: t eq 'servicePrincipal')", {"signInEventTypes": ["interactiveUser"]}, False),
    ("createdDateTime ge 2026-01-01T00:00:00Z and createdDateTime le 2026-01-02T00:00:00.5Z",
     {"createdDateTime": "2026-01-01T12:00:00.1234567Z"}, True),
])
def test_filter_grammar(text, item, expected):
    assert matches(parse_filter(text, SPEC), item) is expected


@pytest.mark.parametrize("text", ["notes eq 'x'", "displayName gt 'a'", "appId eq", "appId eq 'a' and",
                                  "signInEventTypes/any(t: x eq 'a')", "contains(displayName,'a')"])
def test_filters_outside_the_spec_are_400(text):
    with pytest.raises(GraphError) as raised:
        parse_filter(text, SPEC)
    assert raised.value.status == 400


COUNT_SPEC = QuerySpec("microsoft.graph.application", filters={"federatedIdentityCredentials": ("$count",),
                                                                "displayName": ("eq",)})


@pytest.mark.parametrize("text, members, expected", [
    ("federatedIdentityCredentials/$count ne 0", [{"id": "f"}], True),
    ("federatedIdentityCredentials/$count ne 0", [], False),
    ("federatedIdentityCredentials/$count eq 0", [], True),
    ("not (federatedIdentityCredentials/$count eq 0) and displayName eq 'a'", [{"id": "f"}], True),
])
def test_relationship_count_filter_counts_what_related_lists(text, members, expected):
    asked = []

    def related(item, name):
        asked.append(name)
        return members
    tree = parse_filter(text, COUNT_SPEC)
    assert matches(tree, {"id": "x", "displayName": "A"}, related) is expected
    assert asked == ["federatedIdentityCredentials"]
    assert advanced_operator(tree) in ("eq", "ne")
    assert advanced_operator(parse_filter("displayName eq 'a'", COUNT_SPEC)) is None


@pytest.mark.parametrize("text", ["federatedIdentityCredentials/$count gt 0", "federatedIdentityCredentials/$count ne 1",
                                  "federatedIdentityCredentials/$count ne true", "displayName/$count ne 0",
                                  "federatedIdentityCredentials ne 0"])
def test_relationship_count_only_in_its_documented_forms(text):
    with pytest.raises(GraphError) as raised:
        parse_filter(text, COUNT_SPEC)
    assert raised.value.status == 400 and raised.value.code == "Request_UnsupportedQuery"


def test_equality_values_pick_lookups_only_from_pure_equality_filters():
    assert equality_values(parse_filter("appId eq 'A' or appId eq 'b'", SPEC), "appId") == {"a", "b"}
    assert equality_values(parse_filter("appId eq 'a' or displayName eq 'b'", SPEC), "appId") is None


def test_query_options_are_case_insensitive_and_once_only():
    assert parse_query_string("$TOP=5&select=id") == {"$top": "5", "$select": "id"}
    with pytest.raises(GraphError):
        parse_query_string("$top=5&$top=6")


def test_signed_cursor_rejects_tampering():
    signer = TokenSigner(b"k" * 32)
    token = signer.encode({"offset": 5})
    assert signer.decode(token) == {"offset": 5}
    payload, _, mac = token.partition(".")
    assert signer.decode(payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + mac) is None
    assert TokenSigner(b"j" * 32).decode(token) is None
    assert signer.decode("garbage") is None


def test_token_bucket_retry_after_is_exactly_enough():
    now = [0.0]
    bucket = TokenBucket(5, 10.0, lambda: now[0])
    for _ in range(5):
        assert bucket.wait_for(1) == 0
        bucket.take(1)
    wait = bucket.wait_for(1)
    assert wait == 2.0
    now[0] += wait - 0.01
    assert bucket.wait_for(1) > 0
    now[0] += 0.01
    assert bucket.wait_for(1) == 0


def test_throttle_limits_by_tenant_size_and_overrides():
    assert ThrottleLimits.from_option(None) is None
    assert ThrottleLimits.from_option("graph", "large").directory_ru == 8000
    assert ThrottleLimits.from_option({"scale": 0.1}, "medium").directory_ru == 5000
    with pytest.raises(ValueError):
        ThrottleLimits.from_option({"rps": 3})


def test_state_overlay_changes_what_is_served_and_reset_forgets(clean_simulator):
    sim = clean_simulator
    state = sim.state
    target = next(e for e in sim.tenant.expected_secrets() if e.object_type == "application")
    original = sim.tenant.application(target.object_id)
    assert state.remove_password(APPLICATIONS, target.object_id, target.key_id)
    assert not state.remove_password(APPLICATIONS, target.object_id, target.key_id)
    added = state.add_password(APPLICATIONS, target.object_id, "new", start=datetime.datetime(
        2027, 6, 1, tzinfo=datetime.timezone.utc))
    assert added["secretText"] and added["endDateTime"] == "2029-06-01T00:00:00.0000000Z"  # two years by default
    served = state.get(APPLICATIONS, target.object_id)
    keys = [cred["keyId"] for cred in served["passwordCredentials"]]
    assert target.key_id not in keys and added["keyId"] in keys
    assert all(cred["secretText"] is None for cred in served["passwordCredentials"])
    assert sim.tenant.application(target.object_id) == original, "the generated tenant is never modified"
    assert state.summary()["removed_key_ids"] == {target.object_id: [target.key_id]}
    assert [change.object_id for change in state.changes] == [target.object_id] * 2
    sp = next(iter(sim.tenant.iter_service_principals()))
    state.set_account_enabled(sp["id"], False)
    assert state.changes_since(SERVICE_PRINCIPALS, 0) == [sp["id"]]
    state.reset()
    assert state.get(APPLICATIONS, target.object_id) == original and state.changes == []
    assert state.account_enabled(sp["id"]) == sp["accountEnabled"]
