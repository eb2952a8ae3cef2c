"""A client-secret account end to end under splunkd: bin/entra_app_secrets.py run exactly as splunkd runs
it (input XML on stdin with server_uri and session_key, SPLUNK_HOME set), a fake splunkd management API
for storage/passwords (tests/fakes/splunkd.py) and the Entra simulator signing the collector in with
its client secret.

What must hold: a secret typed into local/ta_entra_app_secrets_account.conf moves to storage/passwords
and is masked; the run signs in with the stored secret and reports the collector's own secret as a
CTD-000008 finding flagged is_collector_app; a certificate account never calls splunkd; each way of not
getting the secret (splunkd down, capability missing, wrong session key, nothing stored) gives one
message that says what to fix, in the entra:harvest event, the script's log and splunkd's stderr; and no
byte written anywhere holds the secret, a token the simulator issued, or splunkd's session key.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys

import pytest

from connector.splunk import splunkd as splunk_rest
from connector.errors import ConfigError
from fakes.splunkd import FakeSplunkd
from test_modinput import SCRIPT, input_xml, stream_events, validation_xml

APP_ID = "TA-entra-app-secrets"
REALM = "TA-entra-app-secrets"
ACCOUNT = "sim"
LOG_LEVEL_ENV = "TA_ENTRA_APP_SECRETS_LOG_LEVEL"


@pytest.fixture
def splunkd(tmp_path):
    fake = FakeSplunkd().start(tmp_path / "splunkd-tls")
    yield fake
    fake.stop()


@pytest.fixture
def splunk_home(tmp_path):
    """$SPLUNK_HOME with the app as splunkd lays it out (etc/apps/<app>/{bin,local}); the script
    creates var/log/splunk when it logs."""
    home = tmp_path / "splunk"
    app = home / "etc" / "apps" / APP_ID
    (app / "bin").mkdir(parents=True)
    (app / "local").mkdir()
    shutil.copy(SCRIPT, app / "bin" / "entra_app_secrets.py")
    return home


def app_dir(home):
    return home / "etc" / "apps" / APP_ID


def account_conf(home):
    return app_dir(home) / "local" / "ta_entra_app_secrets_account.conf"


def write_account(home, simulator, *, typed_in_secret=None, certificate=False):
    collector = simulator.collector
    lines = ["# the collector of the simulated tenant", f"[{ACCOUNT}]", f"tenant_id = {simulator.tenant_id}",
             f"client_id = {collector.client_id}", f"authority_host = {simulator.base_url}",
             f"graph_host = {simulator.base_url}", f"ca_bundle = {simulator.ca_path}"]
    if certificate:
        lines.append(f"certificate_path = {collector.certificate_path}")
    if typed_in_secret:
        lines.append(f"client_secret = {typed_in_secret}")
    account_conf(home).write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_input(home, checkpoint_dir, server_uri, session_key, log_level="INFO"):
    checkpoint_dir.mkdir(exist_ok=True)
    env = {**os.environ, "SPLUNK_HOME": str(home), LOG_LEVEL_ENV: log_level}
    stdin = input_xml(checkpoint_dir, {"account": ACCOUNT, "signin_lookback_hours": "24"},
                      server_uri=server_uri, session_key=session_key)
    return subprocess.run([sys.executable, str(app_dir(home) / "bin" / "entra_app_secrets.py")], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120)


def closed_port_uri():
    """A loopback https URI nobody listens on: splunkd down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"https://127.0.0.1:{port}"


def written_bytes(home, result, checkpoint_dir, splunkd=None):
    """Everything the run left behind: stdout, stderr, the add-on's logs, checkpoints (files and KV-store
    documents), the account conf."""
    texts = {"stdout": result.stdout, "stderr": result.stderr}
    if splunkd is not None:
        texts["KV store"] = json.dumps(splunkd.kvstore.documents("ta_entra_app_secrets_checkpoints"))
    for folder in (home / "var" / "log" / "splunk", checkpoint_dir):
        for name in sorted(os.listdir(folder)) if folder.is_dir() else ():
            texts[str(folder / name)] = (folder / name).read_text(encoding="utf-8")
    texts["account conf"] = account_conf(home).read_text(encoding="utf-8")
    return texts


def assert_nothing_secret(texts, needles):
    leaks = [(where, what) for where, text in texts.items() for what, needle in needles.items()
             if needle and needle in text]
    assert not leaks, leaks
    assert not any("Bearer " in text or "client_assertion=" in text for text in texts.values())


def log_text(home):
    folder = home / "var" / "log" / "splunk"
    return "".join((folder / name).read_text(encoding="utf-8") for name in os.listdir(folder))


def harvest_events(events):
    return [e["event"] for e in events if e["sourcetype"] == "entra:harvest"]


# ------------------------------------------------------------------------------ the fake itself

def test_storage_passwords_round_trip_through_splunklib_against_the_fake(splunkd):
    service = splunk_rest.connect(splunkd.server_uri, splunkd.session_key)
    assert splunk_rest.read_account_secret(service, "prod") is None
    splunk_rest.store_account_secret(service, "prod", "first<&>value")
    splunk_rest.store_account_secret(service, "prod", "second")        # replaces: delete then create
    splunk_rest.store_account_secret(service, "dev", "dev-secret")
    assert splunkd.stored() == {(APP_ID, REALM, "prod"): "second", (APP_ID, REALM, "dev"): "dev-secret"}
    assert splunk_rest.secret_for_account(splunkd.server_uri, splunkd.session_key, "prod") == "second"
    entries = {(e.realm, e.username): e for e in service.storage_passwords.list()}
    assert set(entries) == {(REALM, "prod"), (REALM, "dev")}
    assert entries[(REALM, "dev")].encrypted_password.startswith("$7$")
    assert "dev-secret" not in entries[(REALM, "dev")].encrypted_password
    methods = [(r.method, r.status) for r in splunkd.requests]
    assert ("POST", 201) in methods and ("DELETE", 200) in methods and ("DELETE", 404) in methods

    with pytest.raises(ConfigError, match=r"rejected the session key \(HTTP 401\)"):
        splunk_rest.secret_for_account(splunkd.server_uri, "not-the-key", "prod")
    splunkd.deny("list_storage_passwords")
    with pytest.raises(ConfigError, match=r"HTTP 403.*needs the list_storage_passwords capability"):
        splunk_rest.secret_for_account(splunkd.server_uri, splunkd.session_key, "prod")
    assert [r.status for r in splunkd.requests[-2:]] == [401, 403]


def test_a_concurrent_create_is_replaced_not_fatal(splunkd):
    # after a restart every input starts at once, each moving the same typed-in secret
    splunkd.fail_next("POST", 409, "An object with name=TA-entra-app-secrets:prod: already exists")
    splunk_rest.store_account_secret(splunk_rest.connect(splunkd.server_uri, splunkd.session_key), "prod", "mine")
    assert splunkd.stored() == {(APP_ID, REALM, "prod"): "mine"}
    assert [(r.method, r.status) for r in splunkd.requests] == [("DELETE", 404), ("POST", 409),
                                                                ("DELETE", 404), ("POST", 201)]


def test_a_stuck_splunkd_gives_up_with_a_message(splunkd, monkeypatch):
    monkeypatch.setattr(splunk_rest, "SPLUNKD_TIMEOUT_S", 0.5)
    splunkd.hang()
    with pytest.raises(ConfigError, match=r"no answer from splunkd at https://127\.0\.0\.1:\d+ while reading the "
                                          r"client secret of account 'prod' from storage/passwords \(.*timed out\)"):
        splunk_rest.secret_for_account(splunkd.server_uri, splunkd.session_key, "prod")


# ------------------------------------------------------------------------------- end to end

def test_typed_in_secret_moves_to_storage_passwords_and_the_run_signs_in_with_it(
        simulator, splunkd, splunk_home, tmp_path, issued_tokens):
    secret = simulator.collector.secret
    write_account(splunk_home, simulator, typed_in_secret=secret)
    checkpoints = tmp_path / "checkpoints"

    first = run_input(splunk_home, checkpoints, splunkd.server_uri, splunkd.session_key, log_level="DEBUG")
    assert first.returncode == 0, first.stderr

    # moved and masked, the rest of the file as the admin wrote it
    assert splunkd.stored() == {(APP_ID, REALM, ACCOUNT): secret}
    conf = account_conf(splunk_home).read_text(encoding="utf-8")
    assert "client_secret = ********" in conf and "# the collector of the simulated tenant" in conf
    assert f"client_id = {simulator.collector.client_id}" in conf

    events = stream_events(first.stdout)
    [harvest] = harvest_events(events)
    assert (harvest["status"], harvest["auth_method"]) == ("success", "secret"), harvest["errors"]
    findings = [e["event"] for e in events if e["sourcetype"] == "entra:app:finding"]
    own = [f for f in findings if f["app_id"] == simulator.collector.client_id]
    assert [f["key_id"] for f in own] == [simulator.collector.secret_key_id]
    assert own[0]["is_collector_app"] is True and own[0]["signature_id"] == "CTD-000008"
    assert own[0]["object_type"] == "application"
    assert not [f for f in findings if f["is_collector_app"] and f["app_id"] != simulator.collector.client_id]
    token_requests = [r for r in simulator.requests if r.app == simulator.collector.client_id]
    assert token_requests, "the collector should have signed in to the simulator"

    # the second run finds the secret only in storage/passwords: it reads it and stores nothing
    requests_before = len(splunkd.requests)
    second = run_input(splunk_home, checkpoints, splunkd.server_uri, splunkd.session_key)
    assert second.returncode == 0, second.stderr
    assert harvest_events(stream_events(second.stdout))[0]["status"] == "success"
    # storage/passwords is only read; the checkpoints are written to the KV store
    assert {r.method for r in splunkd.requests[requests_before:] if "storage/passwords" in r.path} == {"GET"}

    assert len(issued_tokens) >= 2, "each run should have been issued a token to look for"
    needles = {"client secret": secret, "session key": splunkd.session_key,
               **{f"token {n}": token for n, token in enumerate(issued_tokens)}}
    for result in (first, second):
        assert_nothing_secret(written_bytes(splunk_home, result, checkpoints, splunkd), needles)
    assert sorted(doc["checkpoint"] for doc in splunkd.kvstore.documents("ta_entra_app_secrets_checkpoints")
                  if doc["kind"] == "manifest") == [f"{ACCOUNT}.inventory", f"{ACCOUNT}.posture", f"{ACCOUNT}.signins"]
    assert "scan.finished" in log_text(splunk_home)


@pytest.mark.parametrize("other_account_typed_in", [False, True], ids=["alone", "beside-an-unmovable-secret"])
def test_a_certificate_account_needs_no_storage_passwords(simulator, splunkd, splunk_home, tmp_path, issued_tokens,
                                                         other_account_typed_in):
    write_account(splunk_home, simulator, certificate=True)
    server_uri = splunkd.server_uri
    other_secret = simulator.responder.secret
    if other_account_typed_in:
        # another account's secret typed into the same file while splunkd will not take it: that
        # account's own input reports it; this one must still run
        with account_conf(splunk_home).open("a", encoding="utf-8") as conf:
            conf.write(f"\n[responder]\ntenant_id = {simulator.tenant_id}\n"
                       f"client_id = {simulator.responder.client_id}\nclient_secret = {other_secret}\n")
        splunkd.deny("admin_all_objects")
    checkpoints = tmp_path / "checkpoints"
    result = run_input(splunk_home, checkpoints, server_uri, splunkd.session_key)
    assert result.returncode == 0, result.stderr
    [harvest] = harvest_events(stream_events(result.stdout))
    assert (harvest["status"], harvest["auth_method"]) == ("success", "certificate"), harvest["errors"]
    # splunkd is asked for the checkpoints (KV store), never to read a password; the other account's
    # typed-in secret is offered to storage/passwords and refused (403)
    assert splunkd.requests and not [r for r in splunkd.requests if "storage/collections" not in r.path
                                     and not (other_account_typed_in and r.status == 403)]
    # splunkd runs one process per input, so each input logs to a file of its own
    assert os.listdir(splunk_home / "var" / "log" / "splunk") == ["ta_entra_app_secrets_entra_app_secrets_sim.log"]
    if other_account_typed_in:
        assert "input.other_secret_not_moved" in log_text(splunk_home)
        texts = written_bytes(splunk_home, result, checkpoints, splunkd)
        assert f"client_secret = {other_secret}" in texts.pop("account conf")
        assert_nothing_secret(texts, {"responder secret": other_secret, "session key": splunkd.session_key,
                                      **{f"token {n}": token for n, token in enumerate(issued_tokens)}})


def test_validating_an_input_moves_a_typed_in_secret(simulator, splunkd, splunk_home):
    secret = simulator.collector.secret
    write_account(splunk_home, simulator, typed_in_secret=secret)
    env = {**os.environ, "SPLUNK_HOME": str(splunk_home)}
    result = subprocess.run(
        [sys.executable, str(app_dir(splunk_home) / "bin" / "entra_app_secrets.py"), "--validate-arguments"],
        input=validation_xml({"account": ACCOUNT}, server_uri=splunkd.server_uri, session_key=splunkd.session_key),
        capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0 and result.stdout == "", (result.stdout, result.stderr)
    assert splunkd.stored() == {(APP_ID, REALM, ACCOUNT): secret}
    assert secret not in account_conf(splunk_home).read_text(encoding="utf-8")
    assert secret not in result.stderr


# ------------------------------------------------------------------------------- error paths

def _unreachable(splunkd):
    return {"server_uri": closed_port_uri()}


def _no_read_capability(splunkd):
    splunkd.deny("list_storage_passwords")
    return {}


def _no_write_capability(splunkd):
    splunkd.deny("admin_all_objects")
    return {}


def _wrong_session_key(splunkd):
    return {"session_key": "a-session-key-splunkd-never-issued"}


def _nothing_stored(splunkd):
    return {}


def _stored(splunkd, secret):
    splunkd.put(APP_ID, REALM, ACCOUNT, secret)


@pytest.mark.parametrize("typed_in,break_it,message", [
    (False, _unreachable, r"no answer from splunkd at https://127\.0\.0\.1:\d+ while reading the client secret of "
                          r"account 'sim' from storage/passwords \(Connection refused\); check that splunkd is running"),
    (False, _no_read_capability, r"splunkd refused reading the client secret of account 'sim' from "
                                 r"storage/passwords \(HTTP 403\); the role running the add-on needs the "
                                 r"list_storage_passwords capability"),
    (False, _wrong_session_key, r"rejected the session key \(HTTP 401\) while reading the client secret of "
                                r"account 'sim'.*restart the input"),
    (False, _nothing_stored, r"account 'sim' has no certificate_path and no client secret in storage/passwords "
                             r"\(realm TA-entra-app-secrets, username sim\)"),
    (True, _no_write_capability, r"splunkd refused moving the client_secret typed into "
                                 r"local/ta_entra_app_secrets_account\.conf \(account sim\) to storage/passwords "
                                 r"\(HTTP 403\); the role running the add-on needs the admin_all_objects capability"),
    (True, _unreachable, r"no answer from splunkd at https://127\.0\.0\.1:\d+ while moving the client_secret typed "
                         r"into local/ta_entra_app_secrets_account\.conf"),
], ids=["splunkd-down", "no-list-capability", "wrong-session-key", "no-secret-stored", "no-write-capability",
        "splunkd-down-while-moving"])
def test_no_secret_gives_one_message_that_says_what_to_fix(
        simulator, splunkd, splunk_home, tmp_path, issued_tokens, typed_in, break_it, message):
    secret = simulator.collector.secret
    write_account(splunk_home, simulator, typed_in_secret=secret if typed_in else None)
    if not typed_in and break_it is not _nothing_stored:
        _stored(splunkd, secret)
    target = {"server_uri": splunkd.server_uri, "session_key": splunkd.session_key, **break_it(splunkd)}
    checkpoints = tmp_path / "checkpoints"

    result = run_input(splunk_home, checkpoints, **target)

    assert result.returncode == 0, result.stderr      # splunkd reads the failure from the events and logs
    events = stream_events(result.stdout)
    assert [e["sourcetype"] for e in events] == ["entra:harvest"]
    harvest = events[0]["event"]
    assert (harvest["status"], harvest["auth_method"], harvest["account"]) == ("failure", "secret", ACCOUNT)
    assert harvest["tenant_id"] == simulator.tenant_id and harvest["error_count"] == 1
    [error] = harvest["errors"]
    assert (error["stage"], error["code"]) == ("credentials", "ConfigError")
    assert re.search(message, error["message"]), error["message"]
    assert f"ERROR entra_app_secrets://{ACCOUNT}: {error['message']}" in result.stderr   # splunkd.log
    assert error["message"] in log_text(splunk_home).replace('\\"', '"')
    assert issued_tokens == [] and simulator.requests == [], "no sign-in may be tried without a secret"
    if typed_in:   # not moved: the admin's file is left as it was for them to fix
        assert f"client_secret = {secret}" in account_conf(splunk_home).read_text(encoding="utf-8")
        assert splunkd.stored() == {}
    texts = written_bytes(splunk_home, result, checkpoints, splunkd)
    texts.pop("account conf")
    assert_nothing_secret(texts, {"client secret": secret, "session key": target["session_key"]})
