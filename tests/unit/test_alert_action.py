"""splunkd's payload, the results file, the stash writer and the per-row loop of the alert actions."""
import csv
import datetime
import gzip
import io
import json
import os
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from connector.checkpoint import MemoryCheckpointStore
from connector.errors import ConfigError
from connector.splunk import access, alert_action
from connector.splunk.alert_action import Payload, StashWriter, decode_multivalue, decode_row
from connector.logs import configure_logging
from fakes.splunkd import FakeSplunkd
from fakes.splunkd_conf import save_like_ucc
from test_actions import (APP_ID, APP_OBJECT, COLLECTOR_APP_ID, KEY_ON_APP, KEY_ON_SP, OTHER_KEY_ON_APP, SP_OBJECT,
                          TENANT, UNKNOWN_KEY, MemoryGraph)


@pytest.fixture(autouse=True)
def splunkd_side(monkeypatch):
    """splunkd's answers, in memory: the session's user is analyst1 with the respond capability, and the
    KV-store collections are memory stores (tests/functional drive the real REST calls)."""
    stores = {}

    def current_caller(server_uri, session_key):
        if not session_key:
            raise ConfigError("the payload carries no session_key")
        return access.Caller("analyst1", ("ess_analyst",), frozenset({access.RESPOND_CAPABILITY}))

    monkeypatch.setattr(alert_action.access, "current_caller", current_caller)
    monkeypatch.setattr(alert_action.kvstore, "checkpoint_store",
                        lambda server_uri, session_key, name: stores.setdefault(name, MemoryCheckpointStore()))
    return stores


# --- multivalue fields and the results file ------------------------------------------------------------
def test_decode_multivalue_handles_escaped_dollars_and_empty_values():
    assert decode_multivalue("$one$;$two$") == ["one", "two"]
    assert decode_multivalue("$a$$b$;$$;$") == ["a$b", ""]
    assert decode_multivalue("") == []


def test_decode_row_turns_multivalue_columns_into_lists_and_drops_mv_columns():
    row = decode_row({"key_id": "k1\nk2", "__mv_key_id": "$k1$;$k2$", "app_id": "a", "__mv_app_id": ""})
    assert row == {"key_id": ["k1", "k2"], "app_id": "a"}


def write_results(path, rows):
    columns = sorted({k for row in rows for k in row})
    header = []
    for name in columns:
        header += [name, "__mv_" + name]
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            line = []
            for name in columns:
                value = row.get(name, "")
                if isinstance(value, list):
                    line += ["\n".join(value), ";".join("$" + v.replace("$", "$$") + "$" for v in value)]
                else:
                    line += [value, ""]
            writer.writerow(line)
    return str(path)


def test_iter_rows_streams_the_results_file_and_numbers_rows(tmp_path):
    path = write_results(tmp_path / "results.csv.gz", [{"app_id": "a", "key_id": "k"}, {"app_id": "b", "rid": "7"}])
    payload = Payload(configuration={}, result={"app_id": "only-first"}, results_file=path)
    rows = list(alert_action.iter_rows(payload))
    assert [(rid, row["app_id"]) for rid, row in rows] == [("0", "a"), ("7", "b")]


def test_iter_rows_falls_back_to_the_payload_result(tmp_path):
    payload = Payload(configuration={}, result={"app_id": "x", "rid": "3"}, results_file=str(tmp_path / "gone.csv.gz"))
    assert list(alert_action.iter_rows(payload)) == [("3", {"app_id": "x", "rid": "3"})]
    with pytest.raises(alert_action.PayloadError, match="no results"):
        list(alert_action.iter_rows(Payload(configuration={}, result={}, results_file=None)))


def test_payload_reads_splunkd_keys_and_flags():
    payload = Payload.from_json(json.dumps({
        "configuration": {"dry_run": "1", "force": "0", "account": "responder"}, "result": {"rid": "0"},
        "owner": "analyst1", "session_key": "s3ss10n", "sid": "sid1", "search_name": "n",
        "server_host": "sh1", "server_uri": "https://127.0.0.1:8089", "results_file": "/x.csv.gz"}))
    assert payload.flag("dry_run") and not payload.flag("force") and not payload.flag("absent")
    assert (payload.user, payload.sid, payload.server_host) == ("analyst1", "sid1", "sh1")
    assert "s3ss10n" not in repr(payload)
    with pytest.raises(alert_action.PayloadError, match="payload_format = json"):
        Payload.from_json("<xml/>")


# --- the stash writer ----------------------------------------------------------------------------------
def test_stash_file_has_the_splunk_header_and_one_json_event(tmp_path):
    writer = StashWriter(str(tmp_path), host="search head 1", index="entra")
    path = writer.write({"status": "success", "result": "ok"}, source="entra_app_secrets://responder", when=1.5)
    assert os.path.dirname(path) == str(tmp_path / "var" / "spool" / "splunk")
    assert path.endswith(".stash_entra_app_response")
    header, line, *rest = open(path, encoding="utf-8").read().split("\n")
    assert header == ("***SPLUNK*** sourcetype=entra:app:response source=entra_app_secrets://responder "
                      "host=search_head_1 index=entra")
    assert json.loads(line) == {"time": "1970-01-01T00:00:01.500000Z", "status": "success", "result": "ok"}
    assert rest == [""]
    # nothing is left behind in the staging folder
    assert [name for name in os.listdir(tmp_path / "var" / "spool") if name != "splunk"] == []


# --- the per-row loop ----------------------------------------------------------------------------------
def make_certificate(path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "responder")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()) + cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("cert") / "responder.pem")


SESSION_KEY = "SESSION-KEY-never-logged"
ACCOUNT_CONF = "ta_entra_app_secrets_account"


@pytest.fixture
def splunkd(tmp_path):
    """The splunkd the actions read their accounts from (no local/ folder: its REST API only)."""
    fake = FakeSplunkd(session_key=SESSION_KEY).start(tmp_path / "splunkd-tls")
    yield fake
    fake.stop()


@pytest.fixture
def splunk_home(tmp_path, certificate, monkeypatch, splunkd):
    # The add-on log goes to $SPLUNK_HOME/var/log/splunk as under splunkd; stderr again afterwards.
    monkeypatch.setenv("SPLUNK_HOME", str(tmp_path))
    splunkd.confs.put("TA-entra-app-secrets", ACCOUNT_CONF, "responder", {
        "tenant_id": TENANT, "client_id": COLLECTOR_APP_ID, "certificate_path": str(certificate),
        "graph_host": "https://graph.example.test"})
    _SPLUNKD[str(tmp_path)] = splunkd
    yield tmp_path
    del _SPLUNKD[str(tmp_path)]
    configure_logging()


_SPLUNKD = {}   # SPLUNK_HOME -> the fake splunkd of that test


def splunkd_of(splunk_home):
    """What splunkd puts in an action's payload: its URI and the session key."""
    return {"server_uri": _SPLUNKD[str(splunk_home)].server_uri, "session_key": SESSION_KEY}


def execute(splunk_home, command, rows, configuration=None, graph=None):
    graph = graph or MemoryGraph()
    results = write_results(splunk_home / "results.csv.gz", rows)
    payload = {"configuration": configuration or {}, "result": rows[0], "results_file": results, "owner": "analyst1",
               "sid": "rt_sid_1", "search_name": "Threat - CTD-000008 - Rule", "server_host": "sh1",
               **splunkd_of(splunk_home)}
    code = alert_action.main(command, ["--execute"], io.StringIO(json.dumps(payload)),
                             environ={"SPLUNK_HOME": str(splunk_home)}, graph_factory=lambda account: graph)
    return code, read_stash(splunk_home), graph


def read_stash(splunk_home):
    spool = splunk_home / "var" / "spool" / "splunk"
    events = []
    for name in sorted(os.listdir(spool)):
        header, line = open(spool / name, encoding="utf-8").read().splitlines()
        events.append(json.loads(line))
    return sorted(events, key=lambda e: int(e["result_id"]))


def finding(**fields):
    row = {"tenant_id": TENANT, "app_id": APP_ID, "object_type": "application", "object_id": APP_OBJECT,
           "key_id": KEY_ON_APP, "app_name": "Payroll sync", "last_used": ""}
    row.update(fields)
    return row


def test_one_audit_event_per_row_and_a_bad_row_does_not_stop_the_others(splunk_home):
    rows = [finding(key_id=UNKNOWN_KEY), finding(), finding(app_id="not-a-guid"),
            finding(object_type="servicePrincipal", object_id=SP_OBJECT, key_id=KEY_ON_SP, orig_sid="es_sid",
                    orig_rid="9")]
    code, events, graph = execute(splunk_home, "entra_remove_secret", rows)
    assert code == alert_action.EXIT_FAILURES
    assert [(e["result_id"], e["outcome"], e["status"]) for e in events] == [
        ("0", "refused", "failure"), ("1", "changed", "success"), ("2", "refused", "failure"),
        ("3", "changed", "success")]
    assert [w[1] for w in graph.writes] == [f"/applications/{APP_OBJECT}/removePassword",
                                            f"/servicePrincipals/{SP_OBJECT}/removePassword"]
    assert "not a GUID" in events[2]["result"]
    assert (events[3]["orig_sid"], events[3]["orig_rid"]) == ("es_sid", "9")
    assert (events[1]["orig_sid"], events[1]["orig_rid"]) == ("rt_sid_1", "1")
    assert {e["user"] for e in events} == {"analyst1"} and {e["src"] for e in events} == {"sh1"}
    assert events[1]["account"] == "responder" and events[1]["dvc"] == "graph.example.test"
    assert events[1]["search_name"] == "Threat - CTD-000008 - Rule"


def test_all_rows_successful_exits_zero_and_a_repeat_is_still_success(splunk_home):
    graph = MemoryGraph()
    assert execute(splunk_home, "entra_remove_secret", [finding()], graph=graph)[0] == 0
    code, events, _ = execute(splunk_home, "entra_remove_secret", [finding()], graph=graph)
    assert code == 0 and [e["outcome"] for e in events] == ["changed", "already_done"]


def test_dry_run_and_account_parameters(splunk_home):
    code, events, graph = execute(splunk_home, "entra_disable_app", [finding()],
                                  configuration={"dry_run": "1", "account": "responder"})
    assert code == 0 and graph.writes == []
    assert events[0]["outcome"] == "dry_run" and events[0]["dry_run"] is True
    code, events, _ = execute(splunk_home, "entra_enable_app", [finding()], configuration={"account": "nobody"})
    assert code == 1 and "no account named 'nobody'" in events[-1]["result"]


def test_row_for_a_tenant_without_an_account_is_reported(splunk_home):
    code, events, graph = execute(splunk_home, "entra_disable_app",
                                  [finding(tenant_id="12121212-1212-1212-1212-121212121212")])
    assert code == 1 and "no account is configured for tenant" in events[0]["result"]
    assert events[0]["status"] == "failure" and graph.writes == []


def test_session_key_never_reaches_the_stash_or_the_log(splunk_home):
    execute(splunk_home, "entra_remove_secret", [finding()])
    written = b""
    for folder in ("var/spool/splunk", "var/log/splunk"):
        for name in os.listdir(splunk_home / folder):
            written += (splunk_home / folder / name).read_bytes()
    assert b"response.row" in written  # the log was written
    assert b"SESSION-KEY-never-logged" not in written and b"must-never-be-copied" not in written


def test_usage_errors_exit_two(splunk_home, capsys):
    assert alert_action.main("entra_remove_secret", [], io.StringIO("{}"), environ={"SPLUNK_HOME": "x"}) == 2
    assert "--execute" in capsys.readouterr().err
    assert alert_action.main("entra_remove_secret", ["--execute"], io.StringIO("{}"), environ={}) == 2
    assert alert_action.main("entra_remove_secret", ["--execute"], io.StringIO("not json"),
                             environ={"SPLUNK_HOME": str(splunk_home)}) == 2


def test_per_result_alerting_numbers_the_row_with_the_payload_result_id(tmp_path):
    path = write_results(tmp_path / "results.csv.gz", [{"app_id": "a"}])
    payload = Payload(configuration={}, result={"app_id": "a"}, results_file=path, result_id="4")
    assert [rid for rid, _ in alert_action.iter_rows(payload)] == ["4"]


def test_an_account_without_certificate_gets_its_secret_from_storage_passwords(splunk_home, splunkd):
    save_like_ucc(splunkd, ACCOUNT_CONF, "responder", {"certificate_path": "", "credential_type": "client_secret",
                                                       "client_secret": "stored-secret-value"},
                  ["client_secret", "certificate", "proxy_password"])
    seen = []
    graph = MemoryGraph()

    def factory(account):
        seen.append(account.client_secret)
        return graph

    results = write_results(splunk_home / "results.csv.gz", [finding(), finding(key_id=OTHER_KEY_ON_APP)])
    payload = {"configuration": {}, "result": {}, "results_file": results, **splunkd_of(splunk_home),
               "owner": "analyst1"}
    code = alert_action.main("entra_remove_secret", ["--execute"], io.StringIO(json.dumps(payload)),
                             environ={"SPLUNK_HOME": str(splunk_home)}, graph_factory=factory)
    assert code == 0
    # one client for both rows of the account, signed in with the secret from storage/passwords
    assert seen == ["stored-secret-value"]
    assert b"stored-secret-value" not in b"".join(
        (splunk_home / "var" / "spool" / "splunk" / name).read_bytes()
        for name in os.listdir(splunk_home / "var" / "spool" / "splunk"))


def test_an_unusable_spool_fails_the_run_but_the_log_keeps_the_record(splunk_home):
    (splunk_home / "var" / "spool").mkdir(parents=True)
    (splunk_home / "var" / "spool" / "splunk").write_text("a file where splunkd's spool folder should be")
    graph = MemoryGraph()
    results = write_results(splunk_home / "results.csv.gz", [finding()])
    payload = {"configuration": {}, "result": {}, "results_file": results, "owner": "analyst1",
               **splunkd_of(splunk_home)}
    code = alert_action.main("entra_remove_secret", ["--execute"], io.StringIO(json.dumps(payload)),
                             environ={"SPLUNK_HOME": str(splunk_home)}, graph_factory=lambda account: graph)
    assert code == alert_action.EXIT_FAILURES and len(graph.writes) == 1
    log = (splunk_home / "var" / "log" / "splunk" / "ta_entra_app_secrets_response.log").read_text()
    assert '"outcome": "changed"' in log and "response.audit_not_spooled" in log


def test_a_result_without_tenant_id_uses_the_only_account(splunk_home):
    row = finding()
    del row["tenant_id"]
    code, events, graph = execute(splunk_home, "entra_disable_app", [row])
    assert code == 0 and events[0]["outcome"] == "changed" and events[0]["account"] == "responder"
    assert events[0]["tenant_id"] == TENANT


def test_an_unreachable_splunkd_is_named_when_the_accounts_cannot_be_read(splunk_home):
    results = write_results(splunk_home / "results.csv.gz", [finding()])
    payload = {"configuration": {}, "result": {}, "results_file": results, "server_uri": "https://127.0.0.1:9",
               "session_key": "SESSION", "owner": "analyst1"}
    code = alert_action.main("entra_disable_app", ["--execute"], io.StringIO(json.dumps(payload)),
                             environ={"SPLUNK_HOME": str(splunk_home)}, graph_factory=lambda account: MemoryGraph())
    events = read_stash(splunk_home)
    assert code == 1 and "while reading the accounts" in events[0]["result"]
    assert "https://127.0.0.1:9" in events[0]["result"] and "SESSION" not in events[0]["result"]


def test_a_user_without_the_respond_capability_is_refused_before_graph(splunk_home, monkeypatch):
    monkeypatch.setattr(alert_action.access, "current_caller", lambda server_uri, session_key: access.Caller(
        "intern", ("user",), frozenset({"search"})))
    code, events, graph = execute(splunk_home, "entra_remove_secret", [finding(), finding(key_id=KEY_ON_SP)])
    assert code == alert_action.EXIT_FAILURES and graph.writes == [] and graph.gets == []
    assert [(e["outcome"], e["status"], e["user"]) for e in events] == [("refused", "failure", "intern")] * 2
    assert "user intern (roles: user) lacks the entra_app_secrets_respond capability" in events[0]["result"]


def test_no_answer_from_splunkd_about_the_user_refuses(splunk_home, monkeypatch):
    def current_caller(server_uri, session_key):
        raise ConfigError("no answer from splunkd at https://127.0.0.1:8089 while asking who triggered the action")

    monkeypatch.setattr(alert_action.access, "current_caller", current_caller)
    code, events, graph = execute(splunk_home, "entra_disable_app", [finding()])
    assert code == alert_action.EXIT_FAILURES and graph.writes == [] and graph.gets == []
    assert events[0]["outcome"] == "refused" and "may not respond: no answer from splunkd" in events[0]["result"]


def test_a_run_logs_sendmodaction_lines_for_incident_review(splunk_home):
    rows = [finding(orig_sid="notable_sid", orig_rid="5"), finding(app_id="not-a-guid")]
    execute(splunk_home, "entra_remove_secret", rows)
    lines = (splunk_home / "var" / "log" / "splunk" / "entra_remove_secret_modalert.log").read_text().splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\+0000"
    assert re.fullmatch(stamp + r' INFO sendmodaction - worker="sh1" signature="Invoking modular action" '
                        r'action_name="entra_remove_secret" search_name="Threat - CTD-000008 - Rule" sid="rt_sid_1" '
                        r'user="analyst1" digest_mode="1" action_mode="adhoc"', lines[0]), lines[0]
    assert re.fullmatch(stamp + r' INFO sendmodaction - worker="sh1" signature="removed: [^"]+" '
                        r'action_name="entra_remove_secret" search_name="Threat - CTD-000008 - Rule" sid="rt_sid_1" '
                        r'orig_sid="notable_sid" rid="0" orig_rid="5" user="analyst1" digest_mode="1" '
                        r'action_mode="adhoc" action_status="success" app_id="[0-9a-f-]{36}" key_id="[0-9a-f-]{36}" '
                        r'outcome="changed"', lines[1]), lines[1]
    assert 'rid="1"' in lines[2] and 'action_status="failure"' in lines[2] and 'outcome="refused"' in lines[2]
    assert len(lines) == 3
