"""assess: CTD-000008 base severity, each factor moving the score, and the sentences an analyst reads."""
import datetime as dt

import pytest

from connector.assess import score as rules
from connector.assess.correlate import AppContext, Credential, Permission, UsageSummary, secret_facts

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.timezone.utc)
GRAPH = "00000003-0000-0000-c000-000000000000"
UNUSED = UsageSummary(None, 0, (), None)
USED = UsageSummary("2026-11-28T10:00:00Z", 12, ("203.0.113.5",), "203.0.113.5")


def secret(object_type="application", start=NOW - dt.timedelta(days=60), end=NOW + dt.timedelta(days=120),
           kind="password"):
    return Credential(credential_type=kind, object_type=object_type, object_id="obj", app_id="app",
                      app_name="Payroll", key_id="key-1", hint="abc", start=start, end=end)


def finding(credential=None, usage=USED, **context):
    context.setdefault("app_id", "app")
    context.setdefault("app_name", "Payroll")
    context.setdefault("account_enabled", True)
    facts = secret_facts(credential or secret(), AppContext(**context), usage, NOW, recent_days=7)
    return rules.assess(facts)


def test_a_plain_used_secret_is_medium_as_ctd_000008_rates_it():
    result = finding()
    assert (result.severity, result.score, result.factor_ids) == ("medium", 50, [])
    assert result.severity_id == 3 and result.mitre_technique_ids == ["T1078.004"]


@pytest.mark.parametrize("severity,score", [("critical", 90), ("high", 70), ("high", 89), ("medium", 40),
                                            ("low", 20), ("informational", 19), ("informational", 0)])
def test_severity_bands(severity, score):
    assert rules.severity_for(score) == severity


def test_escalation_permission_raises_to_high_and_names_it():
    result = finding(permissions=(Permission(GRAPH, "Microsoft Graph", "Application.ReadWrite.All"),
                                  Permission(GRAPH, "Microsoft Graph", "User.Read.All")))
    assert result.severity == "high" and result.score == 85
    detail = dict((f.id, f.detail) for f in result.factors)["high_privilege_permissions"]
    assert "Application.ReadWrite.All" in detail and "User.Read.All" in detail


def test_data_access_permission_scores_less_than_escalation():
    data = finding(permissions=(Permission(GRAPH, "Microsoft Graph", "Mail.Read"),))
    harmless = finding(permissions=(Permission(GRAPH, "Microsoft Graph", "Calendars.Read"),))
    assert data.score == 75 and harmless.score == 50


def test_permission_of_another_resource_with_the_same_name_is_not_graph_privilege():
    result = finding(permissions=(Permission("11111111-0000-0000-0000-000000000000", "Contoso API",
                                             "Application.ReadWrite.All"),))
    assert "high_privilege_permissions" not in result.factor_ids


def test_exchange_full_access_as_app_is_high_privilege():
    result = finding(permissions=(Permission(rules.EXCHANGE_ONLINE_APP_ID, "Office 365 Exchange Online",
                                             "full_access_as_app"),))
    assert "high_privilege_permissions" in result.factor_ids


def test_privileged_role_and_secret_on_service_principal_make_it_critical():
    result = finding(credential=secret(object_type="servicePrincipal"),
                     directory_roles=("Global Administrator", "Reports Reader"))
    assert result.severity == "critical" and result.score == 100
    assert result.factor_ids[:2] == ["privileged_directory_role", "secret_on_service_principal"]
    assert "Reports Reader" not in " ".join(f.detail for f in result.factors)
    assert "T1098.001" in result.mitre_technique_ids


def test_unprivileged_role_does_not_fire():
    assert "privileged_directory_role" not in finding(directory_roles=("Reports Reader",)).factor_ids


def test_never_expiring_beats_long_lifetime_and_long_lifetime_needs_over_180_days():
    never = finding(credential=secret(end=dt.datetime(2299, 12, 31, tzinfo=dt.timezone.utc)))
    assert "never_expires" in never.factor_ids and "long_lifetime" not in never.factor_ids
    long_lived = finding(credential=secret(start=NOW - dt.timedelta(days=10), end=NOW + dt.timedelta(days=720)))
    assert "long_lifetime" in long_lived.factor_ids
    exactly = finding(credential=secret(start=NOW - dt.timedelta(days=60), end=NOW + dt.timedelta(days=120)))
    assert "long_lifetime" not in exactly.factor_ids


def test_recently_added_secret_adds_t1098_001():
    result = finding(credential=secret(start=NOW - dt.timedelta(days=2), end=NOW + dt.timedelta(days=90)))
    assert "recently_added" in result.factor_ids and "T1098.001" in result.mitre_technique_ids


def test_many_source_ips_fire_at_the_threshold():
    ips = tuple(f"198.51.100.{n}" for n in range(5))
    assert "used_from_many_ips" in finding(usage=UsageSummary("2026-11-28T10:00:00Z", 30, ips, ips[0])).factor_ids
    assert "used_from_many_ips" not in finding(usage=UsageSummary("x", 30, ips[:4], ips[0])).factor_ids


def test_expired_and_unused_is_capped_at_low_even_with_blast_radius():
    expired = secret(start=NOW - dt.timedelta(days=400), end=NOW - dt.timedelta(days=5))
    result = finding(credential=expired, usage=UNUSED,
                     permissions=(Permission(GRAPH, "Microsoft Graph", "RoleManagement.ReadWrite.Directory"),))
    assert result.severity == "low" and result.score == rules.EXPIRED_UNUSED_CAP
    assert "expired" in result.factor_ids
    assert "remove the expired secret" in rules.recommended_action(result).lower()


def test_expired_but_used_in_the_window_is_lowered_not_capped():
    expired = secret(start=NOW - dt.timedelta(days=100), end=NOW - dt.timedelta(hours=2))
    assert finding(credential=expired).score == 30


def test_disabled_service_principal_lowers_the_score():
    assert finding(account_enabled=False).score == 40


def test_redundant_secret_multi_tenant_and_collector():
    result = finding(has_certificate=True, has_federated_credential=True, sign_in_audience="AzureADMultipleOrgs",
                     is_collector_app=True, collector_uses_secret=True)
    assert {"redundant_secret", "multi_tenant", "collector_app"} <= set(result.factor_ids)
    detail = dict((f.id, f.detail) for f in result.factors)["redundant_secret"]
    assert "certificate" in detail and "federated" in detail
    assert "redundant" in rules.recommended_action(result)
    # the collector factor only fires when the add-on itself signs in with a secret
    assert "collector_app" not in finding(is_collector_app=True, collector_uses_secret=False).factor_ids


def test_unused_secret_is_flagged_for_removal():
    result = finding(usage=UNUSED)
    assert "unused_in_window" in result.factor_ids and result.score == 50
    assert "unused" in rules.recommended_action(result)


def test_symmetric_key_is_scored_like_a_secret_and_says_so():
    result = finding(credential=secret(kind="symmetric_key"))
    assert result.severity == "medium" and "symmetric_key_credential" in result.factor_ids


def test_every_factor_has_a_sentence_and_the_description_names_app_and_key():
    result = finding(credential=secret(object_type="servicePrincipal", end=dt.datetime(2299, 1, 1, tzinfo=dt.timezone.utc)),
                     directory_roles=("Privileged Role Administrator",), usage=UNUSED)
    assert all(f.detail and f.detail.endswith(".") or f.detail.endswith(")") for f in result.factors)
    text = rules.description(result)
    assert "Payroll" in text and "key-1" in text and "never expires" in text and "service principal" in text
    assert "service principal object" in rules.recommended_action(result)


def test_use_sentences_name_the_window():
    credential = secret()
    facts = secret_facts(credential, AppContext(app_id="a", app_name="b"), UNUSED, NOW, recent_days=7,
                         window_hours=24 * 30)
    assert "in the last 30 days" in rules.assess(facts).factors[-1].detail
    facts = secret_facts(credential, AppContext(app_id="a", app_name="b"), UNUSED, NOW, recent_days=7)
    assert "in the last 24 hours" in rules.assess(facts).factors[-1].detail


FAR_FUTURE = dt.datetime(2299, 12, 31, tzinfo=dt.timezone.utc)
MANY = UsageSummary("2026-11-28T10:00:00Z", 30, tuple(f"203.0.113.{n}" for n in range(1, 6)), "203.0.113.1")


# one factor at a time on a plain used secret (score 50): (scenario, factor id, points, words the detail names)
ONE_FACTOR = [
    (dict(permissions=(Permission(GRAPH, "Microsoft Graph", "RoleManagement.ReadWrite.Directory"),)),
     "high_privilege_permissions", 35, ("escalate", "RoleManagement.ReadWrite.Directory")),
    (dict(permissions=(Permission(GRAPH, "Microsoft Graph", "Mail.Read"),)),
     "high_privilege_permissions", 25, ("data-access", "Mail.Read")),
    (dict(directory_roles=("Global Administrator", "Directory Readers")),
     "privileged_directory_role", 35, ("Global Administrator",)),
    (dict(credential=secret(object_type="servicePrincipal")), "secret_on_service_principal", 20, ("backdoor",)),
    (dict(credential=secret(kind="symmetric_key")), "symmetric_key_credential", 0, ("Symmetric",)),
    (dict(credential=secret(end=FAR_FUTURE)), "never_expires", 15, ("never expires",)),
    (dict(credential=secret(start=NOW - dt.timedelta(days=60), end=NOW + dt.timedelta(days=300))),
     "long_lifetime", 10, ("360 days", "180-day")),
    (dict(credential=secret(start=NOW - dt.timedelta(days=1))), "recently_added", 15, ("2026-11-27", "T1098.001")),
    (dict(usage=MANY), "used_from_many_ips", 10, ("5 source IP addresses", "24 hours")),
    (dict(usage=UNUSED), "unused_in_window", 0, ("not used", "24 hours")),
    (dict(sign_in_audience="AzureADMultipleOrgs", owned_by_other_tenant=True), "multi_tenant", 5, ("another tenant",)),
    (dict(sign_in_audience="AzureADMultipleOrgs"), "multi_tenant", 5, ("AzureADMultipleOrgs", "every tenant")),
    (dict(has_certificate=True), "redundant_secret", 5, ("a certificate", "redundant")),
    (dict(has_certificate=True, has_federated_credential=True), "redundant_secret", 5,
     ("a certificate and a federated identity credential",)),
    (dict(is_collector_app=True, collector_uses_secret=True), "collector_app", 0, ("collector", "certificate")),
    (dict(account_enabled=False), "service_principal_disabled", -10, ("disabled",)),
    (dict(credential=secret(start=NOW - dt.timedelta(days=100), end=NOW - dt.timedelta(days=1))), "expired", -20,
     ("expired",)),
]


@pytest.mark.parametrize("scenario, factor_id, points, named", ONE_FACTOR,
                         ids=[f"{row[1]}-{n}" for n, row in enumerate(ONE_FACTOR)])
def test_each_factor_moves_the_score_by_its_points_and_says_why(scenario, factor_id, points, named):
    scenario = dict(scenario)
    result = finding(scenario.pop("credential", None), scenario.pop("usage", USED), **scenario)
    assert result.factor_ids == [factor_id]
    assert result.score == rules.BASE_SCORE + points
    detail = result.factors[0].detail
    assert detail[0].isupper() and detail.endswith(".") and "XX" not in detail, detail
    for words in named:
        assert words in detail, (words, detail)


def test_a_collector_app_on_a_certificate_is_not_flagged_and_scores_are_clamped():
    assert "collector_app" not in finding(is_collector_app=True, collector_uses_secret=False).factor_ids
    worst = finding(secret(object_type="servicePrincipal", end=FAR_FUTURE), MANY,
                    permissions=(Permission(GRAPH, "Microsoft Graph", "Application.ReadWrite.All"),),
                    directory_roles=("Global Administrator",))
    assert worst.score == 100 and worst.severity == "critical"
    gone = finding(secret(start=NOW - dt.timedelta(days=100), end=NOW - dt.timedelta(days=1)), UNUSED,
                   account_enabled=False)
    assert gone.score == 20 and gone.severity == "low"      # 50 - 10 - 20, then the expired-and-unused cap


def test_exchange_privilege_counts_only_on_exchange_online_and_lists_are_comma_separated():
    exchange = "00000002-0000-0ff1-ce00-000000000000"
    on_exchange = finding(permissions=(Permission(exchange, "Office 365 Exchange Online", "full_access_as_app"),))
    assert on_exchange.factor_ids == ["high_privilege_permissions"] and on_exchange.score == 75
    elsewhere = finding(permissions=(Permission("11111111-0000-0000-0000-000000000000", "Contoso API",
                                                "full_access_as_app"),))
    assert elsewhere.factor_ids == []
    several = finding(permissions=(Permission(GRAPH, "Microsoft Graph", "Mail.Read"),
                                   Permission(GRAPH, "Microsoft Graph", "Mail.Send")),
                      directory_roles=("User Administrator", "Global Administrator"))
    details = {f.id: f.detail for f in several.factors}
    labels = sorted(p.label for p in (Permission(GRAPH, "Microsoft Graph", "Mail.Read"),
                                      Permission(GRAPH, "Microsoft Graph", "Mail.Send")))
    assert details["high_privilege_permissions"].endswith(": " + ", ".join(labels) + ".")
    assert details["privileged_directory_role"].endswith(": Global Administrator, User Administrator.")
    assert details["privileged_directory_role"].startswith("The app's service principal holds")
