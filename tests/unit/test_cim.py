"""cim: the event bodies carry the contract's fields and the CIM values a data model accepts."""
import dataclasses
import datetime as dt
import json

import pytest

from connector.assess import score as rules
from connector.splunk import cim
from connector.assess.correlate import (AppContext, Credential, Permission, UsageSummary, credentials_of, secret_facts,
                                 timing)

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.timezone.utc)
TENANT = "0b5f4c1e-1111-4222-8333-444455556666"
ALERTS_REQUIRED = ("app", "description", "dest", "id", "signature", "signature_id", "src", "user", "severity", "type")
AUTHENTICATION_REQUIRED = ("action", "app", "dest", "src", "user")
CIM_SEVERITIES = {"critical", "high", "medium", "low", "informational"}


def a_finding(app_name="Payroll <sync> & \"co\"", usage=None, object_type="application"):
    credential = Credential(credential_type="password", object_type=object_type, object_id="obj-1", app_id="app-1",
                            app_name=app_name, key_id="KEY-1", hint="abc", display_name="prod",
                            start=NOW - dt.timedelta(days=3), end=NOW + dt.timedelta(days=30))
    context = AppContext(app_id="app-1", app_name=app_name, account_enabled=True, service_principal_id="sp-1",
                         application_object_id="obj-1",
                         permissions=(Permission("00000003-0000-0000-c000-000000000000", "Microsoft Graph",
                                                 "Application.ReadWrite.All"),),
                         directory_roles=("Global Administrator",), owners=("ann@contoso.example",))
    usage = usage or UsageSummary("2026-11-28T10:00:00Z", 4, ("203.0.113.9", "198.51.100.1"), "203.0.113.9")
    return rules.assess(secret_facts(credential, context, usage, NOW, recent_days=7))


def test_finding_has_every_cim_alerts_required_field_non_empty_and_lowercase_values():
    event = cim.finding_event(a_finding(), account="prod", tenant_id=TENANT)
    for name in ALERTS_REQUIRED:
        assert event[name] not in (None, "", []), name
    assert event["severity"] in CIM_SEVERITIES and event["type"] == "alert"
    assert (event["signature_id"], event["signature"]) == ("CTD-000008", "Microsoft Entra app with client secrets")
    assert event["src"] == "203.0.113.9" and event["dest"] == "app-1" and event["app"] == "Microsoft Entra ID"
    assert event["vendor_product"] == "Microsoft Entra ID" and event["tenant_id"] == TENANT and event["account"] == "prod"


def test_finding_fields_of_the_contract():
    event = cim.finding_event(a_finding(), account="prod", tenant_id=TENANT)
    contract = ("severity_id risk_score risk_factors risk_factor_details id object_type object_id app_id app_name "
                "key_id secret_hint credential_display_name start_time end_time never_expires lifetime_days age_days "
                "days_to_expiry expired last_used use_count source_ips src_count permissions directory_roles "
                "has_certificate has_federated_credential multi_tenant sign_in_audience account_enabled "
                "is_collector_app mitre_technique_id description recommended_action subject dest_type user_type "
                "credential_type owners application_object_id service_principal_id").split()
    assert not [name for name in contract if name not in event]
    assert event["risk_factors"] == ["high_privilege_permissions", "privileged_directory_role", "recently_added"]
    assert len(event["risk_factor_details"]) == 3 and event["severity"] == "critical"
    assert event["start_time"] == "2026-11-25T12:00:00Z" and event["src_count"] == 2
    assert event["permissions"] == ["Application.ReadWrite.All"] and event["owners"] == ["ann@contoso.example"]
    assert event["mitre_technique_id"] == ["T1078.004", "T1098.001"]
    json.dumps(event)  # serialisable as it is


def test_finding_id_is_stable_and_distinguishes_objects():
    first = cim.finding_event(a_finding(), account="a", tenant_id=TENANT)["id"]
    assert first == cim.finding_event(a_finding(app_name="renamed"), account="b", tenant_id=TENANT)["id"]
    assert first == cim.finding_id(TENANT.upper(), "application", "OBJ-1", "key-1")
    assert first != cim.finding_event(a_finding(object_type="servicePrincipal"), account="a", tenant_id=TENANT)["id"]


def test_unused_secret_has_src_unknown_and_nameless_app_falls_back_to_app_id():
    event = cim.finding_event(a_finding(app_name="", usage=UsageSummary(None, 0, (), None)), account="a",
                              tenant_id=TENANT)
    assert event["src"] == "unknown" and event["user"] == "app-1" and event["last_used"] is None


def test_credential_events_carry_the_fields_of_their_kind():
    graph_app = {"id": "o", "appId": "a", "displayName": "n",
                 "passwordCredentials": [{"keyId": "p", "hint": "xyz", "startDateTime": "2026-01-01T00:00:00Z",
                                          "endDateTime": "2026-02-01T00:00:00Z"}],
                 "keyCredentials": [{"keyId": "c", "type": "AsymmetricX509Cert", "usage": "Verify",
                                     "startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z"}]}
    events = {c.key_id: cim.credential_event(c, timing(c, NOW), UsageSummary(None, 0, (), None), account="x",
                                             tenant_id=TENANT)
              for c in credentials_of(graph_app, "application")}
    assert events["p"]["hint"] == "xyz" and events["p"]["status"] == "expired" and events["p"]["expired"] is True
    assert "usage" not in events["p"]
    assert events["c"]["usage"] == "Verify" and events["c"]["key_type"] == "AsymmetricX509Cert"
    assert events["c"]["status"] == "active" and "hint" not in events["c"]
    federated = Credential(credential_type="federated", object_type="application", object_id="o", app_id="a",
                           app_name="n", key_id="f", issuer="https://token.actions.githubusercontent.com",
                           subject="repo:o/r:ref:refs/heads/main", audiences=("api://AzureADTokenExchange",), name="gh")
    event = cim.credential_event(federated, timing(federated, NOW), UsageSummary(None, 0, (), None), account="x",
                                 tenant_id=TENANT)
    assert event["audiences"] == ["api://AzureADTokenExchange"] and event["status"] == "active"
    assert event["issuer"].startswith("https://token.actions")


SIGNIN = {
    "id": "66ea54eb-6301-4ee5-be62-ff5a759b0100", "createdDateTime": "2026-11-28T10:00:00Z",
    "appId": "app-1", "appDisplayName": "Payroll", "servicePrincipalId": "sp-1", "servicePrincipalName": "Payroll",
    "ipAddress": "203.0.113.9", "clientCredentialType": "clientSecret",
    "servicePrincipalCredentialKeyId": "KEY-1", "resourceDisplayName": "Microsoft Graph",
    "resourceId": "00000003-0000-0000-c000-000000000000", "signInEventTypes": ["servicePrincipal"],
    "location": {"city": "Paris", "countryOrRegion": "FR"},
    "status": {"errorCode": 0, "failureReason": None, "additionalDetails": None},
}


def test_signin_keeps_graph_record_whole_and_adds_cim_authentication_fields():
    event = cim.signin_event(SIGNIN, account="prod", tenant_id=TENANT)
    assert {k: event[k] for k in SIGNIN} == SIGNIN
    for name in AUTHENTICATION_REQUIRED:
        assert event[name], name
    assert (event["action"], event["src"], event["dest"], event["user"], event["user_id"]) == \
        ("success", "203.0.113.9", "Microsoft Graph", "Payroll", "app-1")
    assert event["authentication_method"] == "clientSecret" and event["key_id"] == "KEY-1"
    assert event["src_country"] == "FR" and event["signature_id"] == 0 and "reason" not in event


@pytest.mark.parametrize("changes,expected", [
    ({"status": {"errorCode": 7000215, "failureReason": "Invalid client secret provided."}},
     {"action": "failure", "reason": "Invalid client secret provided.", "signature_id": 7000215}),
    ({"servicePrincipalName": "", "appDisplayName": "", "resourceDisplayName": ""},
     {"user": "app-1", "dest": "00000003-0000-0000-c000-000000000000"}),
    ({"location": None, "ipAddress": ""}, {"src_country": None, "src": "unknown"}),
])
def test_signin_mapping_edge_cases(changes, expected):
    event = cim.signin_event({**SIGNIN, **changes}, account="prod", tenant_id=TENANT)
    assert {k: event[k] for k in expected} == expected


def test_harvest_event_counts_and_stats():
    class Stats:
        requests, throttled, retries = 12, 2, 3
    event = cim.harvest_event(account="a", tenant_id=TENANT, run_id="r", status="partial", started="s",
                              duration_s=1.23456, stats=Stats(), errors=[{"stage": "signins", "code": "x"}],
                              counts={"findings": 3}, signin_lag_s=60.0, mode="full", auth_method="certificate")
    assert (event["requests"], event["throttled"], event["retries"], event["duration_s"]) == (12, 2, 3, 1.235)
    assert event["errors"][0]["stage"] == "signins" and event["counts"] == {"findings": 3}


# --- the contract, field by field (docs/ARCHITECTURE.md "Events"): a renamed key or a dropped value fails
START, END = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc)
USED = UsageSummary("2026-11-28T10:00:00Z", 4, ("203.0.113.9",), "203.0.113.9")
COMMON = {"vendor_product": "Microsoft Entra ID", "tenant_id": TENANT, "account": "prod"}
CREDENTIAL_COMMON = {"object_type": "servicePrincipal", "object_id": "sp-o", "app_id": "app-a", "app_name": "Payroll",
                     "key_id": "k1", "display_name": "prod key", "start_time": "2026-01-01T00:00:00Z",
                     "end_time": "2027-01-01T00:00:00Z", "never_expires": False, "expired": False,
                     "days_to_expiry": 33.5, "lifetime_days": 365.0, "last_used": "2026-11-28T10:00:00Z",
                     "use_count": 4, "status": "active"}


def a_credential(kind, **extra):
    dates = {} if kind == "federated" else {"start": START, "end": END}   # Graph gives federated ones no dates
    return Credential(credential_type=kind, object_type="servicePrincipal", object_id="sp-o", app_id="app-a",
                      app_name="Payroll", key_id="k1", display_name="prod key", **dates, **extra)


@pytest.mark.parametrize("credential, kind_fields", [
    (a_credential("password", hint="xyz"), {"hint": "xyz"}),
    (a_credential("certificate", usage="Verify", key_type="AsymmetricX509Cert"),
     {"usage": "Verify", "key_type": "AsymmetricX509Cert"}),
    (a_credential("symmetric_key", usage="Sign", key_type="Symmetric"), {"usage": "Sign", "key_type": "Symmetric"}),
    (a_credential("federated", issuer="https://token.actions.githubusercontent.com", subject="repo:o/r:ref:main",
                  audiences=("api://AzureADTokenExchange",), name="gh"),
     {"issuer": "https://token.actions.githubusercontent.com", "subject": "repo:o/r:ref:main",
      "audiences": ["api://AzureADTokenExchange"], "name": "gh", "start_time": None, "end_time": None,
      "days_to_expiry": None, "lifetime_days": None}),
])
def test_credential_event_is_the_contract_exactly(credential, kind_fields):
    event = cim.credential_event(credential, timing(credential, NOW), USED, account="prod", tenant_id=TENANT)
    assert event == {**COMMON, "credential_type": credential.credential_type, **CREDENTIAL_COMMON, **kind_fields}


def test_signin_event_names_its_account_tenant_and_vendor():
    event = cim.signin_event(SIGNIN, account="prod", tenant_id=TENANT)
    assert {k: event[k] for k in COMMON} == COMMON
    assert (event["app"], event["authentication_service"], event["signature"]) == (
        "Microsoft Entra ID", "Microsoft Entra ID", "Service principal sign-in")
    # the added fields come first (Splunk extracts the first 100 fields), Graph's record after them
    assert list(event)[:3] == list(COMMON) and list(event).index("action") < list(event).index("id")
    assert cim.signin_event({**SIGNIN, "status": {"errorCode": "0"}}, account="p", tenant_id=TENANT)["action"] == \
        "success"
    no_status = cim.signin_event({**SIGNIN, "status": None}, account="p", tenant_id=TENANT)
    assert (no_status["action"], no_status["signature_id"]) == ("success", 0) and "reason" not in no_status
    nameless = cim.signin_event({**SIGNIN, "servicePrincipalName": None, "resourceDisplayName": None,
                                 "resourceId": None}, account="p", tenant_id=TENANT)
    assert (nameless["user"], nameless["dest"]) == ("Payroll", "unknown")


def test_harvest_event_is_the_contract_exactly():
    class Stats:
        requests, throttled, retries = 12, 2, 3
    errors = [{"stage": f"s{n}", "code": "x"} for n in range(cim.MAX_ERRORS_IN_EVENT + 2)]
    event = cim.harvest_event(account="prod", tenant_id=TENANT, run_id="r", status="partial", started="2026-11-28T12:00:00Z",
                              duration_s=1.23456, stats=Stats(), errors=iter(errors), counts={"findings": 3},
                              signin_lag_s=60.0, mode="changes", auth_method="secret", inventory="cache")
    assert event == {**COMMON, "run_id": "r", "status": "partial", "started": "2026-11-28T12:00:00Z",
                     "duration_s": 1.235, "requests": 12, "throttled": 2, "retries": 3, "counts": {"findings": 3},
                     "signin_lag_s": 60.0, "mode": "changes", "auth_method": "secret", "inventory": "cache",
                     "error_count": 12, "errors": errors[:10]}
    assert list(event)[-1] == "errors"          # last: Splunk extracts the first 10240 characters only
    bare = cim.harvest_event(account="prod", tenant_id=TENANT, run_id="r", status="success", started="s",
                             duration_s=0, stats=None, errors=[], counts={}, signin_lag_s=None, mode="full",
                             auth_method="certificate")
    assert (bare["requests"], bare["throttled"], bare["retries"], bare["inventory"]) == (0, 0, 0, "graph")


def test_finding_id_is_uuid5_of_the_lowercased_key_in_the_add_ons_namespace():
    """ES notables and 'latest' searches group on it across releases: the formula must not drift."""
    import uuid
    expected = str(uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, "https://splunkbase.splunk.com/app/TA-entra-app-secrets"),
                              f"{TENANT}|application|obj-1|key-1"))
    assert cim.finding_id(TENANT.upper(), "Application", "OBJ-1", "KEY-1") == expected


def test_finding_cim_fields_and_fallbacks():
    event = cim.finding_event(a_finding(app_name="Payroll"), account="prod", tenant_id=TENANT)
    assert (event["dest_type"], event["user_type"]) == ("application", "service_principal")
    assert event["subject"] == "Microsoft Entra app with client secrets: Payroll"
    assert event["end_time"] == iso_of(NOW + dt.timedelta(days=30)) and event["secret_hint"] == "abc"
    assert event["credential_display_name"] == "prod" and event["src"] == "203.0.113.9"
    assert {k: event[k] for k in ("vendor_product", "tenant_id", "account")} == {
        "vendor_product": "Microsoft Entra ID", "tenant_id": TENANT, "account": "prod"}
    # no last IP: the first source IP; none at all: unknown
    ips_only = cim.finding_event(a_finding(usage=UsageSummary("2026-11-28T10:00:00Z", 2, ("198.51.100.7", "192.0.2.1"),
                                                              None)), account="prod", tenant_id=TENANT)
    assert ips_only["src"] == "198.51.100.7"
    bare = a_finding(app_name="")
    credential = dataclasses.replace(bare.facts.credential, hint=None, display_name=None, app_name="")
    bare = dataclasses.replace(bare, facts=dataclasses.replace(bare.facts, credential=credential))
    event = cim.finding_event(bare, account="prod", tenant_id=TENANT)
    assert (event["secret_hint"], event["credential_display_name"]) == ("", "")
    assert event["subject"] == "Microsoft Entra app with client secrets: app-1" and event["user"] == "app-1"
    # the context's name first, the credential's when the context has none
    named_on_credential = dataclasses.replace(bare, facts=dataclasses.replace(
        bare.facts, credential=dataclasses.replace(credential, app_name="From credential")))
    assert cim.finding_event(named_on_credential, account="p", tenant_id=TENANT)["app_name"] == "From credential"


def test_signin_user_is_the_service_principal_name_then_the_app_name_then_the_app_id():
    record = {**SIGNIN, "servicePrincipalName": "SP name", "appDisplayName": "App name"}
    assert cim.signin_event(record, account="p", tenant_id=TENANT)["user"] == "SP name"
    assert cim.signin_event({**record, "servicePrincipalName": ""}, account="p", tenant_id=TENANT)["user"] == "App name"
    failed = cim.signin_event({**SIGNIN, "status": {"errorCode": 7000215}}, account="p", tenant_id=TENANT)
    assert failed["signature_id"] == 7000215 and failed["action"] == "failure"


def iso_of(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
