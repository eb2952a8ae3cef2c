"""correlate: credential parsing, timing, usage aggregates (bounded), app context."""
import datetime as dt

from connector.assess import correlate
from connector import times
from connector.assess.correlate import (MAX_SOURCE_IPS_PER_KEY, AppContext, UsageTracker, credentials_of, secret_facts,
                                        timing)
from connector.times import parse_time

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.timezone.utc)
KEY = "6f1e2a3b-0000-4000-8000-00000000000a"


def app(**extra):
    base = {"id": "obj-1", "appId": "app-1", "displayName": "Payroll sync",
            "passwordCredentials": [{"keyId": KEY, "hint": "abc", "displayName": "prod",
                                     "startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z",
                                     "secretText": None, "customKeyIdentifier": None}],
            "keyCredentials": [
                {"keyId": "k-cert", "type": "AsymmetricX509Cert", "usage": "Verify",
                 "startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2027-06-01T00:00:00Z"},
                {"keyId": "k-sym", "type": "Symmetric", "usage": "Verify",
                 "startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2299-12-31T00:00:00Z"}]}
    base.update(extra)
    return base


def signin(key=KEY, when="2026-11-28T11:00:00Z", ip="203.0.113.5", error=0, sid="s1"):
    return {"id": sid, "createdDateTime": when, "servicePrincipalCredentialKeyId": key, "ipAddress": ip,
            "status": {"errorCode": error}}


def test_parse_time_is_tolerant_of_graph_and_doc_oddities():
    assert parse_time("2021-09-09T19:50:29.3086381Z") == dt.datetime(2021, 9, 9, 19, 50, 29, 308638,
                                                                    tzinfo=dt.timezone.utc)
    assert parse_time("2021-03-01T00:00:00-8:00") == dt.datetime(2021, 3, 1, 8, 0, tzinfo=dt.timezone.utc)
    assert parse_time("2021-03-01T00:00:00") == dt.datetime(2021, 3, 1, tzinfo=dt.timezone.utc)
    assert parse_time("not a date") is None and parse_time(None) is None and parse_time(5) is None


def test_credentials_of_types_symmetric_keys_as_secrets_and_certificates_as_inventory():
    kinds = {c.key_id: c.credential_type for c in credentials_of(app(), "application")}
    assert kinds == {KEY: "password", "k-cert": "certificate", "k-sym": "symmetric_key"}
    secrets = [c.key_id for c in credentials_of(app(), "application") if c.is_secret]
    assert secrets == [KEY, "k-sym"]
    password = next(credentials_of(app(), "application"))
    assert (password.hint, password.object_id, password.app_id, password.object_type) == \
        ("abc", "obj-1", "app-1", "application")


def test_null_credential_collections_are_empty():
    assert list(credentials_of({"id": "x", "passwordCredentials": None, "keyCredentials": None}, "application")) == []


def test_timing_of_active_expired_and_never_expiring():
    creds = {c.key_id: c for c in credentials_of(app(), "application")}
    active = timing(creds[KEY], NOW)
    assert (active.expired, active.status, active.never_expires) == (False, "active", False)
    assert active.lifetime_days == 365.0 and active.days_to_expiry == 33.5
    assert timing(creds["k-sym"], NOW).never_expires is True
    expired = timing(creds[KEY], dt.datetime(2027, 2, 1, tzinfo=dt.timezone.utc))
    assert (expired.expired, expired.status) == (True, "expired")
    assert timing(creds[KEY], dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)).status == "not_yet_valid"


def test_usage_counts_only_successful_signins_and_keeps_the_latest_ip():
    usage = UsageTracker(window_hours=24)
    usage.add_signin(signin(ip="198.51.100.1", when="2026-11-28T09:00:00Z"))
    usage.add_signin(signin(ip="198.51.100.2", when="2026-11-28T10:00:00Z"))
    usage.add_signin(signin(ip="198.51.100.9", when="2026-11-28T11:30:00Z", error=7000215))
    summary = usage.summary(KEY.upper())   # key ids compare case-insensitively
    assert summary.use_count == 2
    assert summary.last_used == "2026-11-28T10:00:00Z" and summary.last_ip == "198.51.100.2"
    assert summary.source_ips == ("198.51.100.2", "198.51.100.1")


def test_usage_source_ips_are_capped_and_the_state_round_trips():
    usage = UsageTracker(window_hours=24)
    for n in range(MAX_SOURCE_IPS_PER_KEY + 30):
        usage.add_signin(signin(ip=f"10.0.{n // 250}.{n % 250}", when=f"2026-11-28T10:{n % 60:02d}:{n // 60:02d}Z"))
    summary = usage.summary(KEY)
    assert len(summary.source_ips) == MAX_SOURCE_IPS_PER_KEY
    assert summary.use_count == MAX_SOURCE_IPS_PER_KEY + 30
    again = UsageTracker(window_hours=24, state=usage.to_state())
    assert again.summary(KEY) == summary


def test_usage_prune_drops_counts_outside_the_window_but_keeps_last_use():
    usage = UsageTracker(window_hours=24)
    usage.add_signin(signin(when="2026-11-20T10:00:00Z", ip="198.51.100.7"))
    usage.prune(NOW)
    summary = usage.summary(KEY)
    assert summary.use_count == 0 and summary.source_ips == ()
    assert summary.last_used == "2026-11-20T10:00:00Z"


def test_report_last_use_only_moves_forward():
    usage = UsageTracker(window_hours=24)
    usage.add_signin(signin(when="2026-11-28T10:00:00Z"))
    usage.note_last_use(KEY, "2026-11-01T00:00:00Z")
    assert usage.summary(KEY).last_used == "2026-11-28T10:00:00Z"
    usage.note_last_use(KEY, "2026-11-28T11:00:00-8:00")
    assert usage.summary(KEY).last_used == "2026-11-28T19:00:00Z"


def test_secret_facts_recently_added_and_multi_tenant():
    credential = next(credentials_of(app(passwordCredentials=[{
        "keyId": KEY, "startDateTime": "2026-11-25T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z"}]),
        "application"))
    context = AppContext(app_id="app-1", app_name="Payroll sync", sign_in_audience="AzureADMultipleOrgs")
    facts = secret_facts(credential, context, correlate.NO_USAGE, NOW, recent_days=7)
    assert facts.recently_added and facts.context.multi_tenant and not facts.on_service_principal
    older = secret_facts(credential, AppContext(app_id="a", app_name="b", sign_in_audience="AzureADMyOrg"),
                         correlate.NO_USAGE, NOW + dt.timedelta(days=10), recent_days=7)
    assert not older.recently_added and not older.context.multi_tenant


def test_valid_certificate_ignores_expired_certificates():
    creds = list(credentials_of(app(), "application"))
    assert correlate.valid_certificate(creds, NOW)
    assert not correlate.valid_certificate(creds, dt.datetime(2028, 1, 1, tzinfo=dt.timezone.utc))


def test_usage_buckets_stay_bounded_for_long_windows():
    usage = UsageTracker(window_hours=24 * 30)
    start = NOW - dt.timedelta(days=29)
    for n in range(24 * 29):
        usage.add_signin(signin(when=times.iso(start + dt.timedelta(hours=n)), ip="198.51.100.1"))
    state = usage.to_state()[KEY]
    assert len(state["hours"]) <= correlate.BUCKETS_PER_WINDOW + 1
    assert usage.summary(KEY).use_count == 24 * 29
    usage.prune(NOW + dt.timedelta(days=15))
    assert 0 < usage.summary(KEY).use_count < 24 * 29


def test_credentials_and_contexts_survive_the_checkpoint_round_trip():
    import json
    from connector.assess.correlate import (Permission, context_from_state, context_to_state, credential_from_state,
                                     credential_to_state)
    for credential in credentials_of(app(), "application"):
        assert credential_from_state(json.loads(json.dumps(credential_to_state(credential)))) == credential
    context = AppContext(app_id="a", app_name="n", permissions=(Permission("r", "Graph", "Mail.Read"),),
                         directory_roles=("Global Administrator",), owners=("ann",), account_enabled=False)
    assert context_from_state(json.loads(json.dumps(context_to_state(context)))) == context
