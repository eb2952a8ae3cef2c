"""The response actions run exactly as splunkd runs them, against the simulated tenant over HTTPS.

`python bin/<action>.py --execute` gets the JSON payload on stdin and a gzip CSV results file, with
SPLUNK_HOME pointing at a temporary Splunk with var/spool/splunk/ and no local/ folder: the accounts live
only in a fake splunkd (tests/fakes/splunkd.py), which the action reads through its REST API with the
payload's session key: the responder as UCC's Configuration page saves it (certificate PEM text in
storage/passwords), the read-only collector as a heavy forwarder's legacy certificate_path. The results rows are real
CTD-000008 finding events from a scan of the same tenant, encoded the way splunkd writes results.csv.gz.
Each test then checks the tenant state and the audit events the script spooled.
"""
import csv
import gzip
import json
import os
import subprocess
import sys

import pytest

from connector.checkpoint import MemoryCheckpointStore
from connector.config import Account
from connector.splunk.events import ListWriter
from connector.scan import ScanSettings, run_scan
from connector.splunk import access
from fakes.splunkd import FakeSplunkd
from fakes.splunkd_conf import save_like_ucc

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP = "TA-entra-app-secrets"
SESSION_KEY = "SPLUNKD-SESSION-KEY-0123456789"
ACCOUNT_CONF = "ta_entra_app_secrets_account"
SETTINGS_CONF = "ta_entra_app_secrets_settings"
ENCRYPTED = ("client_secret", "certificate", "proxy_password")
CIM_CHANGE_FIELDS = ("action", "change_type", "command", "dest", "dvc", "object", "object_attrs", "object_category",
                     "object_id", "src", "status", "user", "vendor_product", "result", "result_id", "orig_sid",
                     "orig_rid")


# --- the simulated tenant, its accounts and its findings ---------------------------------------------------
def identity(sim, name):
    return sim.identities[name]


def account_for(sim, name):
    ident = identity(sim, name)
    return Account(name=name, tenant_id=sim.tenant_id, client_id=ident.client_id,
                   certificate_path=ident.certificate_path, authority_host=sim.base_url, graph_host=sim.base_url,
                   ca_bundle=sim.ca_path)


@pytest.fixture(scope="module")
def findings(simulator):
    """Finding events by app name, from one scan of the untouched tenant with the collector."""
    simulator.reset()
    writer = ListWriter()
    run_scan(account_for(simulator, "collector"), MemoryCheckpointStore(), writer, ScanSettings(host="sh1"))
    by_app = {}
    for hec in writer.events:
        if hec["sourcetype"] == "entra:app:finding":
            by_app.setdefault(hec["event"]["app_name"], []).append(hec["event"])
    assert by_app, "the scan found no finding"
    return by_app


@pytest.fixture
def sim(clean_simulator):
    return clean_simulator


def finding(findings, app_name, **match):
    candidates = [f for f in findings[app_name] if all(f.get(k) == v for k, v in match.items())]
    assert len(candidates) == 1, f"{app_name}: {len(candidates)} findings match {match}"
    return dict(candidates[0])


@pytest.fixture
def splunkd(tmp_path, sim):
    """The splunkd that runs the action: the app's shipped default/ and the two accounts, no local/."""
    fake = fake_splunkd_for(tmp_path, sim)
    yield fake
    fake.stop()


def fake_splunkd_for(tmp_path, sim):
    """A started fake splunkd holding the app's default/ and the responder and collector accounts."""
    fake = FakeSplunkd(session_key=SESSION_KEY).start(tmp_path / "splunkd-tls")
    # the session key is analyst1's, who holds the respond capability (authentication/current-context)
    fake.kvstore.login_as("analyst1", roles=["ess_analyst"], capabilities=["search", access.RESPOND_CAPABILITY])
    fake.confs.load_default(APP, os.path.join(REPO, "default"))
    responder, collector = identity(sim, "responder"), identity(sim, "collector")
    with open(responder.certificate_path, encoding="ascii") as pem, open(sim.ca_path, encoding="ascii") as ca:
        save_like_ucc(fake, ACCOUNT_CONF, "responder", {
            "tenant_id": sim.tenant_id, "client_id": responder.client_id, "credential_type": "certificate",
            "certificate": pem.read(), "authority_host": sim.base_url, "graph_host": sim.base_url,
            "ca_bundle": ca.read()}, ENCRYPTED)
    fake.confs.put(APP, ACCOUNT_CONF, "collector", {
        "tenant_id": sim.tenant_id, "client_id": collector.client_id, "certificate_path": collector.certificate_path,
        "authority_host": sim.base_url, "graph_host": sim.base_url, "ca_bundle": sim.ca_path})
    return fake


@pytest.fixture
def splunk_home(tmp_path, splunkd):
    """A Splunk as splunkd leaves it for an alert action: the app's bin/ and the spool folder."""
    (tmp_path / "etc" / "apps" / APP / "bin").mkdir(parents=True)
    (tmp_path / "var" / "spool" / "splunk").mkdir(parents=True)
    _SPLUNKD[str(tmp_path)] = splunkd
    yield tmp_path
    del _SPLUNKD[str(tmp_path)]


_SPLUNKD = {}   # SPLUNK_HOME -> the fake splunkd of that test


# --- splunkd's side ---------------------------------------------------------------------------------------
def write_results_csv_gz(path, rows):
    """results.csv.gz as splunkd writes it: every field plus __mv_<field>, multivalues newline-joined."""
    def text(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else json.dumps(value)

    columns = sorted({name for row in rows for name in row})
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c for name in columns for c in (name, "__mv_" + name)])
        for row in rows:
            cells = []
            for name in columns:
                value = row.get(name)
                if isinstance(value, list) and len(value) > 1:
                    cells += ["\n".join(map(text, value)),
                              ";".join("$" + text(v).replace("$", "$$") + "$" for v in value)]
                else:
                    cells += [text(value[0] if isinstance(value, list) and value else
                                   (None if isinstance(value, list) else value)), ""]
            writer.writerow(cells)


def run_action(splunk_home, action, rows, *, server_uri=None, session_key=SESSION_KEY, **params):
    """Run bin/<action>.py as splunkd does; return (exit code, stderr, audit events spooled by this run)."""
    server_uri = server_uri or _SPLUNKD[str(splunk_home)].server_uri
    spool = splunk_home / "var" / "spool" / "splunk"
    before = set(os.listdir(spool))
    dispatch = splunk_home / "var" / "run" / "splunk" / "dispatch" / "scheduler__admin__sid42"
    dispatch.mkdir(parents=True, exist_ok=True)
    results = dispatch / "results.csv.gz"
    write_results_csv_gz(results, rows)
    payload = {
        "app": "SplunkEnterpriseSecuritySuite", "owner": "analyst1", "user": "analyst1",
        "search_name": "Threat - Entra App Client Secret - Rule", "sid": "scheduler__admin__sid42",
        "results_file": str(results), "results_link": "https://sh1:8000/app/search/@go?sid=scheduler__admin__sid42",
        "server_host": "sh1", "server_uri": server_uri, "session_key": session_key,
        "configuration": {key: str(value) for key, value in params.items()}, "result": rows[0],
    }
    env = {key: value for key, value in os.environ.items() if key != "SPLUNK_HOME"}
    env["SPLUNK_HOME"] = str(splunk_home)
    completed = subprocess.run([sys.executable, os.path.join(REPO, "bin", f"{action}.py"), "--execute"],
                               input=json.dumps(payload), capture_output=True, text=True, env=env,
                               cwd=str(dispatch), timeout=120)
    events = []
    for name in sorted(set(os.listdir(spool)) - before):
        header, line = (spool / name).read_text(encoding="utf-8").splitlines()
        assert header.startswith("***SPLUNK*** sourcetype=entra:app:response source=entra_app_secrets://")
        events.append(json.loads(line))
    return completed.returncode, completed.stderr, sorted(events, key=lambda e: int(e["result_id"]))


def key_ids(sim, row):
    collection = "applications" if row["object_type"] == "application" else "servicePrincipals"
    return sim.state.password_key_ids(collection, row["object_id"])


# --- the tests ------------------------------------------------------------------------------------------
def test_remove_secrets_from_application_and_service_principal_then_repeat(sim, findings, splunk_home):
    unused = finding(findings, "Legacy Reporting Tool")
    on_sp = finding(findings, "Directory Sync Connector", object_type="servicePrincipal")
    on_sp.update(orig_sid="notable_sid_7", orig_rid="4")   # as a notable event carries them
    assert unused["key_id"] in key_ids(sim, unused) and on_sp["key_id"] in key_ids(sim, on_sp)

    code, stderr, events = run_action(splunk_home, "entra_remove_secret", [unused, on_sp],
                                      account="responder", force=1)
    assert code == 0, stderr
    assert unused["key_id"] not in key_ids(sim, unused)
    assert on_sp["key_id"] not in key_ids(sim, on_sp)
    assert [(e["outcome"], e["status"], e["object_type"]) for e in events] == [
        ("changed", "success", "application"), ("changed", "success", "servicePrincipal")]
    for event, row in zip(events, (unused, on_sp)):
        assert all(event.get(name) not in (None, "") for name in CIM_CHANGE_FIELDS), event
        assert (event["action"], event["change_type"], event["object_category"]) == ("deleted", "application",
                                                                                     "application")
        assert (event["command"], event["object_attrs"], event["dest"]) == (
            "entra_remove_secret", ["passwordCredentials"], row["app_id"])
        assert (event["user"], event["src"], event["dvc"]) == ("analyst1", "sh1", "127.0.0.1")
        assert event["key_id"] == row["key_id"] and event["object_id"] == row["object_id"]
        assert row["key_id"] in [c["keyId"] for c in event["snapshot"]["password_credentials"]]
        assert "cannot be restored" in event["result"]
        assert event["vendor_product"] == "Microsoft Entra ID" and event["tenant_id"] == sim.tenant_id
    assert (events[0]["orig_sid"], events[0]["orig_rid"]) == ("scheduler__admin__sid42", "0")
    assert (events[1]["orig_sid"], events[1]["orig_rid"]) == ("notable_sid_7", "4")
    assert events[1]["snapshot"]["account_enabled"] is True

    changes = len(sim.state.changes)
    code, stderr, again = run_action(splunk_home, "entra_remove_secret", [unused, on_sp], account="responder", force=1)
    assert code == 0, stderr
    assert [e["outcome"] for e in again] == ["already_done", "already_done"]
    assert all("already removed" in e["result"] for e in again)
    assert len(sim.state.changes) == changes


def test_dry_run_shows_the_change_and_changes_nothing(sim, findings, splunk_home):
    row = finding(findings, "Multi Secret Sprawl", credential_display_name="forgotten")
    code, stderr, events = run_action(splunk_home, "entra_remove_secret", [row], account="responder", dry_run=1)
    assert code == 0, stderr
    assert sim.state.changes == [] and row["key_id"] in key_ids(sim, row)
    event = events[0]
    assert (event["outcome"], event["status"], event["dry_run"]) == ("dry_run", "success", True)
    assert event["result"].startswith("dry run: would remove secret 'forgotten'") and row["key_id"] in event["result"]
    assert "3 other secret(s)" in event["result"]


def test_disable_repeat_and_enable_again(sim, findings, splunk_home):
    row = finding(findings, "Mail Archiver")
    sp_id = row["service_principal_id"]
    assert sim.state.account_enabled(sp_id) is True

    code, stderr, events = run_action(splunk_home, "entra_disable_app", [row], account="responder")
    assert code == 0, stderr
    assert sim.state.account_enabled(sp_id) is False
    event = events[0]
    assert (event["outcome"], event["action"], event["object_category"], event["object_attrs"]) == (
        "changed", "modified", "user", ["accountEnabled"])
    assert (event["object_id"], event["snapshot"]["account_enabled"]) == (sp_id, True)
    assert (event["user"], event["src_user"]) == ("Mail Archiver", "analyst1")

    code, stderr, events = run_action(splunk_home, "entra_disable_app", [row], account="responder")
    assert code == 0 and events[0]["outcome"] == "already_done" and "already disabled" in events[0]["result"]

    code, stderr, events = run_action(splunk_home, "entra_enable_app", [row], account="responder")
    assert code == 0, stderr
    assert sim.state.account_enabled(sp_id) is True
    assert events[0]["outcome"] == "changed" and events[0]["snapshot"]["account_enabled"] is False


def test_disable_dry_run_changes_nothing(sim, findings, splunk_home):
    row = finding(findings, "Backup Automation")
    code, stderr, events = run_action(splunk_home, "entra_disable_app", [row], account="responder", dry_run=1)
    assert code == 0, stderr
    assert sim.state.changes == [] and sim.state.account_enabled(row["service_principal_id"]) is True
    assert "would set accountEnabled=false" in events[0]["result"]


def test_unsafe_targets_are_refused_and_the_other_rows_still_run(sim, findings, splunk_home):
    mismatched = finding(findings, "Hybrid Credentials App")
    mismatched["key_id"] = finding(findings, "Expired Secret App")["key_id"]
    own_app = next(f for rows in findings.values() for f in rows
                   if f["app_id"] == identity(sim, "responder").client_id)
    recently_used = finding(findings, "HR Sync Service")
    assert recently_used["last_used"], "the demo tenant's HR Sync Service signs in daily"
    fine = finding(findings, "Policy Auditor")
    fine["last_used"] = None   # as if unused: this row must still be acted on

    code, stderr, events = run_action(splunk_home, "entra_remove_secret",
                                      [mismatched, own_app, recently_used, fine], account="responder")
    assert code == 1
    assert [(e["outcome"], e["status"]) for e in events] == [
        ("refused", "failure"), ("refused", "failure"), ("refused", "failure"), ("changed", "success")]
    expected = f"key id {mismatched['key_id']} is not a secret of application 'Hybrid Credentials App'"
    assert expected in events[0]["result"]
    assert "protected" in events[1]["result"]
    assert f"last used {recently_used['last_used'][:19]}" in events[2]["result"]
    assert "within the last 7 days" in events[2]["result"] and "force=1" in events[2]["result"]
    assert [c.object_id for c in sim.state.changes] == [fine["object_id"]]
    assert "ERROR command=entra_remove_secret" in stderr


def test_app_id_that_does_not_match_the_object_is_refused(sim, findings, splunk_home):
    row = finding(findings, "Legacy Reporting Tool")
    row["app_id"] = finding(findings, "Mail Archiver")["app_id"]
    code, _, events = run_action(splunk_home, "entra_remove_secret", [row], account="responder")
    assert code == 1 and events[0]["outcome"] == "refused"
    assert "not to the finding's app" in events[0]["result"] and sim.state.changes == []


def test_missing_permission_is_reported_with_graph_code_and_request_id(sim, findings, splunk_home):
    row = finding(findings, "Hybrid Credentials App")
    code, _, events = run_action(splunk_home, "entra_remove_secret", [row], account="collector")
    assert code == 1 and sim.state.changes == []
    event = events[0]
    assert (event["outcome"], event["status"], event["graph_error_code"]) == ("error", "failure",
                                                                              "Authorization_RequestDenied")
    assert event["graph_request_id"] and event["graph_request_id"] in event["result"]
    assert "Application.ReadWrite" in event["result"]
    code, _, events = run_action(splunk_home, "entra_disable_app", [row], account="collector")
    assert code == 1 and events[0]["graph_error_code"] == "Authorization_RequestDenied"
    assert sim.state.account_enabled(row["service_principal_id"]) is True


def test_two_accounts_for_the_tenant_need_the_account_parameter(sim, findings, splunk_home):
    row = finding(findings, "Mail Archiver")
    code, _, events = run_action(splunk_home, "entra_disable_app", [row])
    assert code == 1 and "several accounts are configured" in events[0]["result"] and sim.state.changes == []


def test_no_secret_or_token_is_written_anywhere(sim, findings, splunk_home):
    rows = [finding(findings, "Legacy Reporting Tool"), finding(findings, "HR Sync Service")]
    code, stderr, _ = run_action(splunk_home, "entra_remove_secret", rows, account="responder")
    _, stderr2, _ = run_action(splunk_home, "entra_remove_secret", rows, account="collector", force=1)
    written = (stderr + stderr2).encode()
    for folder, _dirs, files in os.walk(splunk_home / "var"):
        for name in files:
            if not name.endswith(".gz"):
                written += open(os.path.join(folder, name), "rb").read()
    fake = _SPLUNKD[str(splunk_home)]
    for name in ("ta_entra_app_secrets_response_journal", "ta_entra_app_secrets_snapshots"):
        written += json.dumps(fake.kvstore.documents(name)).encode()
    assert b"response.row" in written and b"entra:app:response" in written and b"sendmodaction" in written
    assert b"removed_at" in written and b"password_credentials" in written   # the journal and a snapshot
    forbidden = [SESSION_KEY.encode(), b"eyJ", b"PRIVATE KEY", b"Bearer "]
    for name in ("responder", "collector"):
        forbidden.append(identity(sim, name).secret.encode())
        with open(identity(sim, name).certificate_path, "rb") as pem:
            key_lines = [line for line in pem.read().splitlines() if line and not line.startswith(b"-----")]
        forbidden += key_lines[1:4]
    leaked = [item for item in forbidden if item in written]
    assert leaked == []


def test_cli_respond_disables_and_enables_through_msal(sim, findings, tmp_path):
    row = finding(findings, "Backup Automation")
    responder = identity(sim, "responder")
    base = [sys.executable, "-m", "connector.cli", "respond"]
    flags = ["--tenant-id", sim.tenant_id, "--client-id", responder.client_id, "--certificate",
             responder.certificate_path, "--authority-host", sim.base_url, "--graph-host", sim.base_url,
             "--ca-bundle", sim.ca_path, "--app-id", row["app_id"], "--state-dir", str(tmp_path)]

    def respond(action, *extra):
        completed = subprocess.run(base + [action] + flags + list(extra), capture_output=True, text=True,
                                   timeout=120, cwd=str(tmp_path))
        return completed.returncode, json.loads(completed.stdout), completed.stderr

    code, event, stderr = respond("disable-app")
    assert code == 0, stderr
    assert sim.state.account_enabled(row["service_principal_id"]) is False
    assert (event["outcome"], event["command"], event["account"]) == ("changed", "entra_disable_app", "cli")
    code, event, stderr = respond("enable-app")
    assert code == 0 and sim.state.account_enabled(row["service_principal_id"]) is True
    code, event, stderr = respond("remove-secret", "--key-id", row["key_id"], "--object-type", "application",
                                  "--object-id", row["object_id"], "--dry-run")
    # No last_used on the command line: the last use comes from Graph's credential activity report.
    assert code == 1 and event["outcome"] == "refused" and "last used" in event["result"], event["result"]
    assert row["key_id"] in key_ids(sim, row)


def test_throttling_is_retried_and_a_persistent_429_fails_only_its_row(sim, findings, splunk_home):
    throttled = finding(findings, "Legacy Reporting Tool")
    retried = finding(findings, "Expired Secret App")
    sim.set_fault("http_429", count=None, retry_after=0.01, route=f"/applications/{throttled['object_id']}/remove")
    sim.set_fault("http_429_burst", count=2, retry_after=0.01, route=f"/applications/{retried['object_id']}/remove")
    code, stderr, events = run_action(splunk_home, "entra_remove_secret", [throttled, retried], account="responder")
    assert code == 1
    assert (events[0]["outcome"], events[0]["graph_error_code"]) == ("error", "TooManyRequests")
    assert events[0]["graph_request_id"] and events[0]["graph_request_id"] in events[0]["result"]
    assert throttled["key_id"] in key_ids(sim, throttled)
    assert events[1]["outcome"] == "changed" and retried["key_id"] not in key_ids(sim, retried)
    # six attempts for the persistent one (the client's limit), two 429s then a 204 for the other
    assert sim.counters.by_status[429] == 8 and sim.counters.by_status[204] == 1


def test_a_secret_typed_into_another_account_is_moved_before_the_action_runs(sim, findings, splunk_home, splunkd):
    """A client_secret typed into the account conf by the previous release's instructions, and no input has
    run since: the action still loads every account and moves the secret into the UCC realm on the way."""
    typed = "Abc8Q~typed-in-secret-value-000000000000"
    splunkd.confs.put(APP, ACCOUNT_CONF, "scanner", {"tenant_id": sim.tenant_id, "client_id":
                                                     identity(sim, "limited").client_id, "client_secret": typed})
    row = finding(findings, "Backup Automation")
    code, stderr, events = run_action(splunk_home, "entra_disable_app", [row], account="responder", dry_run=1)
    assert code == 0, stderr
    assert events[0]["outcome"] == "dry_run"
    assert splunkd.confs.local(APP, ACCOUNT_CONF)["scanner"]["client_secret"] == "******"
    realm = f"__REST_CREDENTIAL__#{APP}#configs/conf-{ACCOUNT_CONF}"
    chunks = [text for (_, r, user), text in sorted(splunkd.stored().items()) if r == realm and
              user.startswith("scanner``")]
    assert json.loads("".join(chunks[:-1])) == {"client_secret": typed}
    assert typed not in stderr


def test_tenant_accounts_names_the_responder_for_the_tenant(sim, findings, splunk_home, splunkd):
    splunkd.confs.put(APP, SETTINGS_CONF, "response", {"tenant_accounts": f"{sim.tenant_id.upper()}=responder"})
    row = finding(findings, "Mail Archiver")
    code, stderr, events = run_action(splunk_home, "entra_disable_app", [row], dry_run=1)
    assert code == 0, stderr
    assert (events[0]["outcome"], events[0]["account"]) == ("dry_run", "responder")


def test_rows_past_the_per_run_limit_are_refused_and_audited(sim, findings, splunk_home):
    _SPLUNKD[str(splunk_home)].confs.put(APP, SETTINGS_CONF, "response", {"max_rows_per_run": "2"})
    rows = [finding(findings, name) for name in ("Backup Automation", "Mail Archiver", "Unowned Script")]

    code, stderr, events = run_action(splunk_home, "entra_disable_app", rows, account="responder", dry_run=1)
    assert code == 0, stderr
    assert [e["outcome"] for e in events] == ["dry_run"] * 3, "dry runs change nothing and are not limited"

    code, stderr, events = run_action(splunk_home, "entra_disable_app", rows, account="responder")
    assert code == 1
    assert [e["outcome"] for e in events] == ["changed", "changed", "refused"]
    assert "max_rows_per_run" in events[2]["result"] and events[2]["account"] == "responder"
    assert [sim.state.account_enabled(row["service_principal_id"]) for row in rows] == [False, False, True]
