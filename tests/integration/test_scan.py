"""The scan against the simulator over real HTTPS with MSAL: findings, sign-ins, checkpoints, throttling,
and a leak check over every byte the scan writes."""
import dataclasses
import datetime as dt
import io
import json
import os

import pytest

from connector import scan as scan_module
from connector.graph import streams
from connector.checkpoint import FileCheckpointStore
from connector.config import Account
from connector.splunk.events import JsonLinesWriter, ListWriter
from connector.logs import configure_logging, reset_logging
from connector.scan import ScanSettings, run_scan

WHOLE_LOG_HOURS = 24 * 30 + 1   # the simulator keeps 30 days of sign-ins


def collector_account(sim, *, secret=False, name="it"):
    collector = sim.collector
    account = Account(name=name, tenant_id=sim.tenant_id, client_id=collector.client_id,
                      authority_host=sim.base_url, graph_host=sim.base_url, ca_bundle=sim.ca_path,
                      certificate_path=None if secret else collector.certificate_path)
    return account.with_secret(collector.secret) if secret else account


def scan(sim, state_dir, writer=None, account=None, clock=None, observer=None, **settings):
    settings.setdefault("signin_lookback_hours", WHOLE_LOG_HOURS)
    settings.setdefault("own_app_ids", frozenset(identity.client_id for identity in sim.identities.values()))
    writer = writer or ListWriter()
    summary = run_scan(account or collector_account(sim), FileCheckpointStore(str(state_dir)), writer,
                       ScanSettings(**settings), clock=clock or scan_module.utcnow, observer=observer)
    return summary, writer


class Clock:
    """The run's clock, moved by the test: run_scan reads it once per run."""

    def __init__(self):
        self.now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += dt.timedelta(**delta)


def of_type(writer, sourcetype):
    return [hec["event"] for hec in writer.events if hec["sourcetype"] == sourcetype]


@pytest.fixture(scope="module")
def demo_scan(simulator, tmp_path_factory):
    """One full scan of the demo tenant, shared by the read-only assertions below."""
    simulator.reset()
    summary, writer = scan(simulator, tmp_path_factory.mktemp("state"))
    return summary, writer


def test_scan_of_the_demo_tenant_succeeds(demo_scan):
    summary, writer = demo_scan
    assert summary.status == "success", summary.errors
    harvest = of_type(writer, "entra:harvest")
    assert len(harvest) == 1 and harvest[0]["status"] == "success" and harvest[0]["auth_method"] == "certificate"
    assert harvest[0]["counts"]["findings"] == summary.counts["findings"] > 0
    assert harvest[0]["requests"] > 0


def test_every_client_secret_is_reported_exactly_once_with_its_object_and_key(demo_scan, demo_tenant):
    findings = [f for f in of_type(demo_scan[1], "entra:app:finding") if f["credential_type"] == "password"]
    reported = [(f["object_type"], f["object_id"].lower(), f["key_id"].lower()) for f in findings]
    expected = [(e.object_type, e.object_id.lower(), e.key_id.lower()) for e in demo_tenant.expected_secrets()]
    assert len(reported) == len(set(reported))
    assert sorted(reported) == sorted(expected)
    ids = [f["id"] for f in of_type(demo_scan[1], "entra:app:finding")]
    assert len(ids) == len(set(ids))


def test_symmetric_key_credentials_are_reported_as_secrets_and_certificates_are_not(demo_scan, demo_tenant):
    symmetric = set()
    certificate_only = set()
    for kind, iterator in (("application", demo_tenant.iter_applications),
                           ("servicePrincipal", demo_tenant.iter_service_principals)):
        for graph_object in iterator():
            keys = graph_object.get("keyCredentials") or []
            symmetric |= {(kind, graph_object["id"].lower(), k["keyId"].lower()) for k in keys if k["type"] == "Symmetric"}
            if keys and not graph_object.get("passwordCredentials") and not any(k["type"] == "Symmetric" for k in keys):
                certificate_only.add(graph_object["appId"])
    findings = of_type(demo_scan[1], "entra:app:finding")
    reported = {(f["object_type"], f["object_id"].lower(), f["key_id"].lower())
                for f in findings if f["credential_type"] == "symmetric_key"}
    assert reported == symmetric
    secret_app_ids = {e.app_id for e in demo_tenant.expected_secrets()} | {f["app_id"] for f in findings
                                                                          if f["credential_type"] == "symmetric_key"}
    assert certificate_only - secret_app_ids, "the demo tenant should have certificate-only apps"
    assert not {f["app_id"] for f in findings} & (certificate_only - secret_app_ids)


# trait of the generated tenant -> (factor that must fire, or a field check)
TRAIT_FACTORS = {
    "on_service_principal": "secret_on_service_principal",
    "never_expires": "never_expires",
    "long_lifetime": "long_lifetime",
    "expired": "expired",
    "many_source_ips": "used_from_many_ips",
    "recently_added": "recently_added",
    "multi_tenant": "multi_tenant",
    "disabled_service_principal": "service_principal_disabled",
    "high_privilege_permission": "high_privilege_permissions",
}


def test_risk_factors_follow_the_tenant_traits(demo_scan, demo_tenant):
    findings = {(f["object_type"], f["object_id"].lower(), f["key_id"].lower()): f
                for f in of_type(demo_scan[1], "entra:app:finding")}
    seen_traits = set()
    for expected in demo_tenant.expected_secrets():
        finding = findings[(expected.object_type, expected.object_id.lower(), expected.key_id.lower())]
        where = f"{finding['app_name']!r} {expected.key_id}"
        seen_traits |= expected.traits
        for trait, factor in TRAIT_FACTORS.items():
            if trait in expected.traits:
                assert factor in finding["risk_factors"], f"{where}: {trait} -> {factor}"
        for factor in ("secret_on_service_principal", "never_expires", "expired", "recently_added",
                       "service_principal_disabled"):
            trait = next(t for t, f in TRAIT_FACTORS.items() if f == factor)
            if factor in finding["risk_factors"]:
                assert trait in expected.traits, f"{where}: {factor} without {trait}"
        assert (finding["use_count"] > 0) == ("used" in expected.traits), where
        if "unused" in expected.traits:
            assert finding["last_used"] is None and finding["src"] == "unknown", where
        assert finding["is_collector_app"] == ("collector_app" in expected.traits), where
        assert finding["has_federated_credential"] == ("has_federated_credential" in expected.traits), where
        if "directory_role" in expected.traits:
            assert finding["directory_roles"], where
        if "expired" in expected.traits and "unused" in expected.traits:
            assert finding["severity"] == "low", where
    assert {"on_service_principal", "never_expires", "expired", "many_source_ips", "recently_added",
            "high_privilege_permission", "directory_role", "used", "unused"} <= seen_traits


def test_findings_name_permissions_resolved_through_app_roles(demo_scan, simulator):
    for identity in simulator.identities.values():
        own = [f for f in of_type(demo_scan[1], "entra:app:finding") if f["app_id"] == identity.client_id]
        assert own and all(f["is_collector_app"] for f in own)
        assert all(set(f["permissions"]) == set(identity.roles) for f in own), identity.name
    assert all(f["severity"] in ("critical", "high", "medium", "low", "informational")
               for f in of_type(demo_scan[1], "entra:app:finding"))


def test_every_credential_is_inventoried_once(demo_scan, demo_tenant):
    credentials = of_type(demo_scan[1], "entra:app:credential")
    keys = [(c["object_id"].lower(), c["key_id"].lower()) for c in credentials]
    assert len(keys) == len(set(keys))
    expected = set()
    for iterator in (demo_tenant.iter_applications, demo_tenant.iter_service_principals):
        for graph_object in iterator():
            for field in ("passwordCredentials", "keyCredentials"):
                expected |= {(graph_object["id"].lower(), c["keyId"].lower()) for c in graph_object.get(field) or []}
    assert expected <= set(keys)
    assert {c["credential_type"] for c in credentials} >= {"password", "certificate", "federated"}


def expected_federated_credentials(tenant):
    """(application object id, credential id) of every federated credential the generator made."""
    return {(application["id"].lower(), credential["id"].lower()) for application in tenant.iter_applications()
            for credential in tenant.federated_credentials(application["id"])}


def test_every_federated_credential_is_inventoried_once_with_or_without_a_secret(demo_scan, demo_tenant):
    federated = [c for c in of_type(demo_scan[1], "entra:app:credential") if c["credential_type"] == "federated"]
    reported = [(c["object_id"].lower(), c["key_id"].lower()) for c in federated]
    expected = expected_federated_credentials(demo_tenant)
    assert len(reported) == len(set(reported)) and set(reported) == expected
    secret_holders = {e.object_id.lower() for e in demo_tenant.expected_secrets() if e.object_type == "application"}
    migrated = {object_id for object_id, _ in expected} - secret_holders
    assert migrated, "the demo tenant should have an app on a federated credential and no secret"
    for event in federated:
        application = demo_tenant.application(event["object_id"])
        credential = next(c for c in demo_tenant.federated_credentials(application["id"]) if c["id"] == event["key_id"])
        assert (event["app_id"], event["app_name"]) == (application["appId"], application["displayName"])
        assert (event["issuer"], event["subject"], event["name"]) == (credential["issuer"], credential["subject"],
                                                                      credential["name"])
        assert event["audiences"] == credential["audiences"] and event["status"] == "active"


def test_federated_credentials_cost_one_list_and_batches_not_a_request_per_application(simulator, tmp_path):
    simulator.reset()
    summary, writer = scan(simulator, tmp_path, signin_lookback_hours=1)
    assert summary.status == "success", summary.errors
    records = simulator.requests
    holders_lists = [r for r in records if r.route == "GET /{api}/applications" and "federatedIdentityCredentials" in r.query]
    assert len(holders_lists) == 1 and holders_lists[0].status == 200
    reads = [r for r in records if r.path.endswith("/federatedIdentityCredentials")]
    holders = {object_id for object_id, _ in expected_federated_credentials(simulator.tenant)}
    # one read per holder, each inside a $batch: no stand-alone GET per application
    assert reads and all(r.batched for r in reads) and len(reads) == len(holders)
    assert {r.path.split("/")[-2].lower() for r in reads} == holders


def test_without_advanced_queries_the_secret_holders_federated_credentials_are_still_read(
        simulator, tmp_path, monkeypatch, demo_tenant):
    """A tenant that refuses the advanced query (Azure AD B2C has none): the error is recorded, the
    secret-holding applications are read instead, has_federated_credential stays right."""
    simulator.reset()
    refused = dataclasses.replace(streams.FEDERATED_CREDENTIAL_HOLDERS, headers={})
    monkeypatch.setattr(streams, "FEDERATED_CREDENTIAL_HOLDERS", refused)
    summary, writer = scan(simulator, tmp_path, signin_lookback_hours=1)
    assert summary.status == "partial"
    errors = of_type(writer, "entra:harvest")[0]["errors"]
    assert [(e["stage"], e["code"]) for e in errors] == [("federated_credential_holders", "Request_UnsupportedQuery")]
    secret_holders = {e.object_id.lower() for e in demo_tenant.expected_secrets() if e.object_type == "application"}
    federated = {(c["object_id"].lower(), c["key_id"].lower()) for c in of_type(writer, "entra:app:credential")
                 if c["credential_type"] == "federated"}
    assert federated == {key for key in expected_federated_credentials(demo_tenant) if key[0] in secret_holders}
    for expected in demo_tenant.expected_secrets():
        finding = next(f for f in of_type(writer, "entra:app:finding") if f["key_id"] == expected.key_id)
        assert finding["has_federated_credential"] == ("has_federated_credential" in expected.traits)


def test_signins_carry_graph_fields_and_cim_fields(demo_scan):
    signins = of_type(demo_scan[1], "entra:signin:serviceprincipal")
    assert signins and len({s["id"] for s in signins}) == len(signins)
    for signin in signins:
        assert "servicePrincipal" in signin["signInEventTypes"]
        assert signin["action"] in ("success", "failure") and signin["src"] and signin["user"]
        assert signin["action"] == ("success" if signin["status"]["errorCode"] == 0 else "failure")
    assert {s["authentication_method"] for s in signins} >= {"clientSecret", "certificate"}


def test_request_count_grows_with_pages_not_objects(demo_scan, demo_tenant):
    summary = demo_scan[0]
    objects = demo_tenant.application_count + demo_tenant.service_principal_count
    # lists + one $batch per 20 secret-holding objects per detail kind, never a GET per object
    assert summary.requests < objects / 2, (summary.requests, objects)


class WrappedTenant:
    """The generated tenant plus sign-ins that 'arrive' between two runs."""

    def __init__(self, tenant):
        self._tenant = tenant
        self.extra = []

    def __getattr__(self, name):
        return getattr(self._tenant, name)

    def iter_signins(self, start=None, end=None):
        merged = list(self._tenant.iter_signins(start=start, end=end))
        merged += [r for r in self.extra
                   if (start is None or r["createdDateTime"] >= _z(start)) and (end is None or r["createdDateTime"] <= _z(end))]
        return iter(sorted(merged, key=lambda r: r["createdDateTime"], reverse=True))


def _z(moment):
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_second_run_repeats_no_signin_and_new_signins_appear_once(demo_tenant, tmp_path):
    from entra_simulator import Simulator
    tenant = WrappedTenant(demo_tenant)
    with Simulator(tenant=tenant) as sim:
        state = tmp_path / "state"
        first = of_type(scan(sim, state, signin_lookback_hours=48)[1], "entra:signin:serviceprincipal")
        assert first
        second_summary, second_writer = scan(sim, state, signin_lookback_hours=48)
        assert of_type(second_writer, "entra:signin:serviceprincipal") == []
        assert len(of_type(second_writer, "entra:app:finding")) == second_summary.counts["findings"] > 0
        secret = next(e for e in demo_tenant.expected_secrets() if e.object_type == "application"
                      and "expired" not in e.traits and "disabled_service_principal" not in e.traits)
        sp = demo_tenant.service_principal_by_app_id(secret.app_id)
        now = dt.datetime.now(dt.timezone.utc)
        tenant.extra = [demo_tenant.make_signin(sp["id"], key_id=secret.key_id, when=now - dt.timedelta(seconds=30 + n),
                                                ip_address=f"192.0.2.{n + 1}", sequence=n) for n in range(3)]
        third = of_type(scan(sim, state, signin_lookback_hours=48)[1], "entra:signin:serviceprincipal")
        assert sorted(s["id"] for s in third) == sorted(r["id"] for r in tenant.extra)
        assert of_type(scan(sim, state, signin_lookback_hours=48)[1], "entra:signin:serviceprincipal") == []


@pytest.mark.parametrize("overlap_minutes, caught", [(60, ("inside",)), (120, ("inside", "older"))])
def test_late_signin_inside_the_overlap_appears_once_and_an_older_one_is_missed(simulator, tmp_path, overlap_minutes,
                                                                                caught):
    """A sign-in Graph publishes after a run, created within signin_overlap_minutes before it, is
    written by the next run exactly once; one created earlier than the overlap is missed (documented in
    README/inputs.conf.spec)."""
    simulator.reset()
    state = tmp_path / "state"
    settings = dict(signin_lookback_hours=3, signin_overlap_minutes=overlap_minutes)
    scan(simulator, state, **settings)
    secret = next(e for e in simulator.tenant.expected_secrets() if e.object_type == "application"
                  and "expired" not in e.traits and "disabled_service_principal" not in e.traits)
    sp = simulator.tenant.service_principal_by_app_id(secret.app_id)
    now = dt.datetime.now(dt.timezone.utc)
    try:
        late = {name: simulator.add_signin(sp["id"], key_id=secret.key_id, when=now - dt.timedelta(minutes=minutes),
                                           ip_address=ip)
                for name, minutes, ip in (("inside", 30, "192.0.2.30"), ("older", 90, "192.0.2.90"))}
        _, second = scan(simulator, state, **settings)
        _, third = scan(simulator, state, **settings)
    finally:
        simulator.reset()
    assert sorted(s["id"] for s in of_type(second, "entra:signin:serviceprincipal")) == sorted(
        late[name]["id"] for name in caught)
    assert of_type(third, "entra:signin:serviceprincipal") == []
    finding = next(f for f in of_type(second, "entra:app:finding") if f["key_id"] == secret.key_id)
    assert "192.0.2.30" in finding["source_ips"]
    # the checkpoint keeps the ids inside the overlap only
    cursor = FileCheckpointStore(str(state)).load("it.signins")
    horizon = scan_module.parse_time(cursor["high_water"]) - dt.timedelta(minutes=overlap_minutes + 1)
    assert all(scan_module.parse_time(stamp) >= horizon for stamp in cursor["recent"].values())
    assert (late["older"]["id"] in cursor["recent"]) == ("older" in caught)


class ExplodingWriter(ListWriter):
    """A writer that dies after `limit` sign-in events: the process killed in the middle of a run."""

    def __init__(self, limit):
        super().__init__()
        self.limit = limit

    def _write(self, hec):
        if hec["sourcetype"] == "entra:signin:serviceprincipal":
            if self.limit == 0:
                raise OSError("killed")
            self.limit -= 1
        super()._write(hec)


def test_a_run_killed_after_a_page_resumes_without_losing_or_repeating(simulator, tmp_path, monkeypatch):
    monkeypatch.setattr(streams, "SIGNINS", streams.Stream(name="signins", path="/auditLogs/signIns", api="beta",
                                                           top=40))
    simulator.reset()
    whole = of_type(scan(simulator, tmp_path / "reference")[1], "entra:signin:serviceprincipal")
    assert len(whole) > 100
    state = tmp_path / "state"
    monkeypatch.setattr(scan_module, "COMMIT_EVERY", 10)
    killed = ExplodingWriter(limit=95)   # two full pages written, the third dies halfway
    summary, _ = scan(simulator, state, writer=killed)
    assert summary.status == "failure"
    seen = [s["id"] for s in of_type(killed, "entra:signin:serviceprincipal")]
    assert len(seen) == 95
    resumed = [s["id"] for s in of_type(scan(simulator, state)[1], "entra:signin:serviceprincipal")]
    # the half-written chunk is read again: its first events appear twice at most, never lost
    assert set(seen) | set(resumed) == {s["id"] for s in whole}
    repeated = set(seen) & set(resumed)
    assert len(repeated) == 5, len(repeated)


def test_medium_tenant_completes_under_throttling(simulator_factory, tmp_path):
    # Graph's throttle shapes with windows halved and budgets tightened so that a run on a shared CI
    # machine meets them: reports (sign-ins, credential activity) 2 requests per 5 s, directory reads
    # 2,000 resource units per 5 s (the $batch inner reads are charged one by one)
    # 2,000 resource units per 5 s (the $batch inner reads are charged one by one); reports (sign-ins,
    # credential activity) 1 request per 5 s, so the second report read is answered 429 however slowly
    # a loaded machine sends. How long it takes is measured in bench/, not asserted here.
    sim = simulator_factory(size="medium", throttle={"scale": 0.5, "reports_requests": 1, "directory_ru": 2000})
    summary, writer = scan(sim, tmp_path, writer=ListWriter(), signin_lookback_hours=24)
    assert summary.status == "success", summary.errors
    expected = sum(1 for _ in sim.tenant.expected_secrets())
    findings = [f for f in of_type(writer, "entra:app:finding") if f["credential_type"] == "password"]
    assert len(findings) == expected
    assert summary.throttled > 0, "the throttle should have answered 429 at least once"


def test_nothing_secret_is_written_anywhere(simulator, tmp_path, capfd, issued_tokens):
    """Every byte the scan writes (events, logs, checkpoints, stderr) is free of the collector's secret,
    the tokens the simulator issued, and the private key."""
    tokens = issued_tokens
    log_stream = io.StringIO()
    configure_logging("DEBUG", stream=log_stream)
    try:
        events_path = tmp_path / "events.jsonl"
        for secret_auth in (True, False):
            writer = JsonLinesWriter.to_path(str(events_path))
            summary, _ = scan(simulator, tmp_path / "state", writer=writer,
                              account=collector_account(simulator, secret=secret_auth), signin_lookback_hours=48)
            writer.close()
            assert summary.status == "success", summary.errors
    finally:
        reset_logging()
    captured = capfd.readouterr()
    written = [events_path.read_text(encoding="utf-8"), log_stream.getvalue(), captured.out, captured.err]
    for name in os.listdir(tmp_path / "state"):
        written.append((tmp_path / "state" / name).read_text(encoding="utf-8"))
    blob = "\n".join(written)
    with open(simulator.collector.certificate_path, encoding="ascii") as handle:
        pem = handle.read()
    key_body = pem.split("PRIVATE KEY-----")[1].split("-----END")[0].strip().splitlines()
    assert len(tokens) >= 2, "each run should have been issued a token to look for"
    needles = {"collector secret": simulator.collector.secret, **{f"token {i}": t for i, t in enumerate(tokens)},
               **{f"private key line {i}": line for i, line in enumerate(key_body) if len(line) > 20}}
    leaked = [name for name, needle in needles.items() if needle and needle in blob]
    assert not leaked
    assert "Bearer " not in blob and "client_assertion" not in blob
    # the secret-auth run reports the collector app as signing in with a secret
    findings = [json.loads(line)["event"] for line in written[0].splitlines()
                if json.loads(line)["sourcetype"] == "entra:app:finding"]
    assert any("collector_app" in f["risk_factors"] for f in findings)


def test_missing_permissions_are_harvest_errors_and_the_inventory_still_goes_out(simulator, tmp_path):
    """The 'limited' app may read applications only: sign-ins, the credential report and directory roles
    answer 403. Each is a clear error in the health event; findings are still written."""
    simulator.reset()
    limited = simulator.limited
    account = Account(name="limited", tenant_id=simulator.tenant_id, client_id=limited.client_id,
                      authority_host=simulator.base_url, graph_host=simulator.base_url, ca_bundle=simulator.ca_path,
                      certificate_path=limited.certificate_path)
    summary, writer = scan(simulator, tmp_path, account=account)
    assert summary.status == "partial"
    stages = {error["stage"]: error for error in of_type(writer, "entra:harvest")[0]["errors"]}
    assert {"signins", "app_credential_activity"} <= set(stages)
    assert "AuditLog.Read.All" in stages["signins"]["message"] and stages["signins"]["request_id"]
    assert of_type(writer, "entra:signin:serviceprincipal") == []
    assert len([f for f in of_type(writer, "entra:app:finding") if f["credential_type"] == "password"]) == \
        sum(1 for _ in simulator.tenant.expected_secrets())
    assert summary.exit_code == 3   # partial: the findings may lack what the refused reads would add


def test_cli_scan_exit_codes(simulator, tmp_path, capsys, monkeypatch):
    from connector.cli import main
    monkeypatch.delenv("ENTRA_CLIENT_SECRET", raising=False)
    common = ["scan", "--tenant-id", simulator.tenant_id, "--client-id", simulator.collector.client_id,
              "--authority-host", simulator.base_url, "--graph-host", simulator.base_url,
              "--ca-bundle", simulator.ca_path, "--state-dir", str(tmp_path / "s"), "--log-level", "ERROR"]
    assert main(common + ["--output", str(tmp_path / "a.jsonl")]) == 2
    assert "ENTRA_CLIENT_SECRET" in capsys.readouterr().err
    monkeypatch.setenv("ENTRA_CLIENT_SECRET", "wrong-secret-value")
    # a refused sign-in is a setting to fix: 2, the AADSTS error on stderr, the summary on stdout
    assert main(common + ["--output", str(tmp_path / "b.jsonl")]) == 2
    out = capsys.readouterr()
    assert "status failure" in out.out and "AADSTS7000215" not in out.out
    assert "error in scan" in out.err and "AADSTS7000215" in out.err
    assert "wrong-secret-value" not in out.out + out.err
    harvest = [json.loads(line) for line in (tmp_path / "b.jsonl").read_text().splitlines()]
    assert [h["event"]["status"] for h in harvest] == ["failure"]
    monkeypatch.setenv("ENTRA_CLIENT_SECRET", simulator.collector.secret)
    # findings: 1
    assert main(common + ["--output", str(tmp_path / "c.jsonl"), "--signin-lookback-hours", "1"]) == 1
    out = capsys.readouterr()
    assert "status success" in out.out and "SEVERITY" in out.out and "error" not in out.err
    # an output file that cannot be written: 2, nothing scanned
    assert main(common + ["--output", str(tmp_path / "missing" / "d.jsonl")]) == 2
    assert "--output" in capsys.readouterr().err


def test_unchanged_tenant_is_reassessed_from_the_kept_inventory_and_a_change_is_harvested(simulator, tmp_path):
    simulator.reset()
    state = tmp_path / "state"
    first_summary, first = scan(simulator, state, signin_lookback_hours=48)
    assert of_type(first, "entra:harvest")[0]["inventory"] == "graph"
    second_summary, second = scan(simulator, state, signin_lookback_hours=48)
    assert of_type(second, "entra:harvest")[0]["inventory"] == "cache"
    # sign-ins (one page), the credential report and two delta checks: not one request per page or object
    assert second_summary.requests <= 6 < first_summary.requests

    def posture(writer):
        return sorted(json.dumps({k: v for k, v in e.items() if k not in ("age_days", "days_to_expiry")},
                                 sort_keys=True)
                      for e in of_type(writer, "entra:app:finding") + of_type(writer, "entra:app:credential"))
    assert posture(first) == posture(second)

    # a secret removed in the tenant: the delta query says so, the next run harvests and it is gone
    victim = next(e for e in simulator.tenant.expected_secrets() if e.object_type == "application")
    assert simulator.state.remove_password("applications", victim.object_id, victim.key_id)
    try:
        third_summary, third = scan(simulator, state, signin_lookback_hours=48)
    finally:
        simulator.reset()
    assert of_type(third, "entra:harvest")[0]["inventory"] == "graph"
    keys = {f["key_id"].lower() for f in of_type(third, "entra:app:finding")}
    assert victim.key_id.lower() not in keys
    assert third_summary.counts["findings"] == first_summary.counts["findings"] - 1


def test_expired_delta_link_means_a_full_harvest(simulator, tmp_path):
    simulator.reset()
    state = tmp_path / "state"
    scan(simulator, state, signin_lookback_hours=48)
    simulator.expire_delta_tokens()
    summary, writer = scan(simulator, state, signin_lookback_hours=48)
    assert summary.status == "success" and of_type(writer, "entra:harvest")[0]["inventory"] == "graph"
    assert of_type(scan(simulator, state, signin_lookback_hours=48)[1], "entra:harvest")[0]["inventory"] == "cache"


def test_demo_command_scans_the_simulated_tenant_and_prints_the_table(tmp_path):
    import subprocess
    import sys
    output = tmp_path / "demo.jsonl"
    done = subprocess.run([sys.executable, "-m", "connector.cli", "demo", "--output", str(output),
                           "--log-level", "WARNING"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr     # 1: findings (the demo tenant holds secrets on purpose)
    assert "SEVERITY" in done.stdout and "critical" in done.stdout and "status success" in done.stdout
    # it opens with what was checked and what the columns mean, and says where the events went
    first = done.stdout.splitlines()[0]
    assert first.startswith('CTD-000008 "Microsoft Entra app with client secrets"')
    assert done.stdout.index("Checked: every application and service principal") < done.stdout.index("SEVERITY ")
    for column in ("SEVERITY", "ON", "APP", "KEY ID", "WHY"):
        assert f"\n  {column:<9}" in done.stdout, column
    lines = output.read_text(encoding="utf-8").splitlines()
    assert f"events: {len(lines)} written to {output}" in done.stdout
    kinds = {json.loads(line)["sourcetype"] for line in lines}
    assert kinds == {"entra:app:finding", "entra:app:credential", "entra:signin:serviceprincipal", "entra:harvest"}
    assert "Traceback" not in done.stderr


def test_the_signin_cursor_is_committed_every_200_signins_written(simulator, tmp_path):
    """With the shipped COMMIT_EVERY (no monkeypatch): a run killed after 350 sign-ins were written
    committed the cursor after the first 200, so the next run writes the other 150 again and loses
    none. Any other interval gives another number (1,000: 350 repeats; 100: 50)."""
    simulator.reset()
    whole = {s["id"] for s in of_type(scan(simulator, tmp_path / "reference")[1], "entra:signin:serviceprincipal")}
    assert len(whole) > 400
    state = tmp_path / "state"
    killed = ExplodingWriter(limit=350)
    summary, _ = scan(simulator, state, writer=killed)
    assert summary.status == "failure"
    seen = [s["id"] for s in of_type(killed, "entra:signin:serviceprincipal")]
    resumed = [s["id"] for s in of_type(scan(simulator, state)[1], "entra:signin:serviceprincipal")]
    assert set(seen) | set(resumed) == whole
    assert len(set(seen) & set(resumed)) == 350 - scan_module.COMMIT_EVERY == 150


def test_changes_mode_resends_what_changed_and_the_whole_snapshot_after_its_interval(simulator, tmp_path):
    simulator.reset()
    clock, state = Clock(), tmp_path / "state"
    settings = dict(signin_lookback_hours=48, posture_mode="changes", snapshot_interval_hours=12)
    _, first = scan(simulator, state, clock=clock, **settings)
    findings = of_type(first, "entra:app:finding")
    credentials = of_type(first, "entra:app:credential")
    assert findings and credentials and of_type(first, "entra:harvest")[0]["mode"] == "full"

    clock.advance(hours=1)
    _, unchanged = scan(simulator, state, clock=clock, **settings)
    assert of_type(unchanged, "entra:app:finding") == of_type(unchanged, "entra:app:credential") == []
    assert of_type(unchanged, "entra:harvest")[0]["mode"] == "changes"

    # one service principal disabled in the tenant: its app's findings change, nothing else does
    victim = next(f for f in findings if f["object_type"] == "servicePrincipal" and f["account_enabled"]
                  and not f["is_collector_app"])
    affected = sorted(f["id"] for f in findings if f["app_id"] == victim["app_id"])
    simulator.state.set_account_enabled(victim["service_principal_id"], False)
    try:
        clock.advance(hours=1)
        _, changed = scan(simulator, state, clock=clock, **settings)
    finally:
        simulator.reset()
    resent = of_type(changed, "entra:app:finding")
    assert sorted(f["id"] for f in resent) == affected
    assert all(f["account_enabled"] is False and "service_principal_disabled" in f["risk_factors"] for f in resent)
    assert of_type(changed, "entra:app:credential") == []   # no credential field changed

    # enabled again (the reset): changed back, sent again; one minute before the snapshot is due
    clock.advance(hours=10, minutes=-1)
    _, back = scan(simulator, state, clock=clock, **settings)
    assert sorted(f["id"] for f in of_type(back, "entra:app:finding")) == affected
    assert of_type(back, "entra:harvest")[0]["mode"] == "changes"

    # snapshot_interval_hours after the first run's snapshot: every finding and credential again
    clock.advance(minutes=1)
    _, snapshot = scan(simulator, state, clock=clock, **settings)
    assert of_type(snapshot, "entra:harvest")[0]["mode"] == "full"
    assert sorted(f["id"] for f in of_type(snapshot, "entra:app:finding")) == sorted(f["id"] for f in findings)
    assert len(of_type(snapshot, "entra:app:credential")) == len(credentials)
    clock.advance(hours=1)
    _, after = scan(simulator, state, clock=clock, **settings)
    assert of_type(after, "entra:app:finding") == []


def test_full_posture_mode_sends_every_finding_every_run(simulator, tmp_path):
    simulator.reset()
    clock, state = Clock(), tmp_path / "state"
    counts = []
    for _ in range(2):
        summary, writer = scan(simulator, state, clock=clock, signin_lookback_hours=48)
        counts.append(len(of_type(writer, "entra:app:finding")))
        assert counts[-1] == summary.counts["findings"] > 0
        clock.advance(hours=1)
    assert counts[0] == counts[1]


def test_delta_is_not_trusted_past_full_harvest_hours(simulator, tmp_path):
    """Delta does not see permission grants, role assignments, owners or federated credentials: however
    quiet the tenant, a full harvest runs once the kept inventory is full_harvest_hours old."""
    simulator.reset()
    clock, state = Clock(), tmp_path / "state"

    def inventory(**settings):
        summary, writer = scan(simulator, state, clock=clock, signin_lookback_hours=48, **settings)
        assert summary.status == "success", summary.errors
        return of_type(writer, "entra:harvest")[0]["inventory"]

    assert inventory() == "graph"
    clock.advance(hours=5, minutes=59)
    assert inventory() == "cache"
    clock.advance(minutes=1)            # 6 hours (the default) since the harvest
    assert inventory() == "graph"
    clock.advance(hours=1)
    assert inventory() == "cache"
    clock.advance(minutes=59, seconds=59)
    assert inventory(full_harvest_hours=2) == "cache"
    clock.advance(seconds=1)            # 2 hours since the harvest
    assert inventory(full_harvest_hours=2) == "graph"
    assert inventory(use_delta=False) == "graph"


def test_the_observer_sees_every_phase_with_counts_and_requests(simulator, tmp_path, monkeypatch):
    from connector.scanning import inventory as inventory_phase
    monkeypatch.setattr(inventory_phase, "OBJECTS_PER_TICK", 10)   # the demo tenant has 46 applications
    simulator.reset()
    reports = []
    summary, _ = scan(simulator, tmp_path, observer=reports.append, signin_lookback_hours=48)
    phases = [report.phase for report in reports]
    for phase in ("signins_reading", "signins_read", "applications_reading", "applications_read",
                  "service_principals_read", "details_read", "findings_written", "finished"):
        assert phase in phases, phase
    assert phases.index("signins_read") < phases.index("applications_read") < phases.index("findings_written")
    last = reports[-1]
    assert last.phase == "finished" and last.requests == summary.requests > 0
    assert last.counts["findings"] == summary.counts["findings"]
    assert last.counts["applications"] == simulator.tenant.application_count
    # objects are reported while a phase runs, not only when it ends
    reading = [r.counts["applications"] for r in reports if r.phase == "applications_reading"]
    assert len(reading) >= 5 and reading == sorted(reading) and reading[-1] == 40
    assert all(isinstance(r.throttle_wait_s, float) for r in reports)
