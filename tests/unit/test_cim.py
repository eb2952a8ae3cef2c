"""cim: the event bodies carry the contract's fields and the CIM values a data model accepts."""
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
