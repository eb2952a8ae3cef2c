"""Accounts through splunkd, end to end: bin/entra_app_secrets.py run exactly as splunkd runs it (input XML
on stdin with server_uri and session_key, SPLUNK_HOME set), with NO local/ folder: the account lives only
in a fake splunkd (tests/fakes/splunkd.py) in the storage contract's shape, saved the way UCC's REST
handler saves it (solnlib ConfFile.update with encrypted fields), and the Entra simulator signs it in.

What must hold: a certificate account whose PEM (key and certificate) is only in storage/passwords scans
the simulator, with its CA bundle as PEM text too; a client-secret account does the same; secrets written
by the previous release (old realm, or typed into the conf) keep working and move to the UCC realm when
the session key may write, and keep working when it may not; each way of not getting the account gives
one message that says what to fix, in the entra:harvest event, the script's log and splunkd's stderr; and
no byte written anywhere holds the secret, the private key, a token the simulator issued, or the session key.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys

import pytest
import requests

from connector.splunk import settings
from fakes.splunkd import FakeSplunkd
from fakes.splunkd_conf import save_like_ucc
from test_modinput import SCRIPT, input_xml, stream_events, validation_xml

APP_ID = "TA-entra-app-secrets"
ACCOUNT_CONF = "ta_entra_app_secrets_account"
UCC_REALM = f"__REST_CREDENTIAL__#{APP_ID}#configs/conf-{ACCOUNT_CONF}"
LEGACY_REALM = APP_ID
ACCOUNT = "sim"
ENCRYPTED = ("client_secret", "certificate", "proxy_password")
LOG_LEVEL_ENV = "TA_ENTRA_APP_SECRETS_LOG_LEVEL"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def splunkd(tmp_path):
    fake = FakeSplunkd().start(tmp_path / "splunkd-tls")
    fake.confs.load_default(APP_ID, os.path.join(REPO, "default"))   # what the app ships
    yield fake
    fake.stop()


@pytest.fixture
def splunk_home(tmp_path):
    """$SPLUNK_HOME with the app as splunkd lays it out, bin/ only: no local/ folder anywhere."""
    home = tmp_path / "splunk"
    (home / "etc" / "apps" / APP_ID / "bin").mkdir(parents=True)
    shutil.copy(SCRIPT, home / "etc" / "apps" / APP_ID / "bin" / "entra_app_secrets.py")
    return home


def app_dir(home):
    return home / "etc" / "apps" / APP_ID


def pem_text(path):
    with open(path, encoding="ascii") as handle:
        return handle.read()


def account_fields(simulator, **changes):
    collector = simulator.collector
    return {"tenant_id": simulator.tenant_id, "client_id": collector.client_id, "cloud": "global",
            "authority_host": simulator.base_url, "graph_host": simulator.base_url, **changes}


def save_certificate_account(splunkd, simulator, **changes):
    save_like_ucc(splunkd, ACCOUNT_CONF, ACCOUNT, account_fields(simulator, **{
        "credential_type": "certificate", "certificate": pem_text(simulator.collector.certificate_path),
        "ca_bundle": pem_text(simulator.ca_path), **changes}), ENCRYPTED)


def save_secret_account(splunkd, simulator, secret, **changes):
    save_like_ucc(splunkd, ACCOUNT_CONF, ACCOUNT, account_fields(
        simulator, credential_type="client_secret", client_secret=secret, ca_bundle=pem_text(simulator.ca_path),
        **changes), ENCRYPTED)


def legacy_account(splunkd, simulator, **extra):
    """An account as the previous release kept it: conf keys written by hand, no credential_type."""
    splunkd.confs.put(APP_ID, ACCOUNT_CONF, ACCOUNT, {**account_fields(simulator), "ca_bundle": simulator.ca_path,
                                                      **extra})


def run_input(home, checkpoint_dir, server_uri, session_key, log_level="INFO"):
    checkpoint_dir.mkdir(exist_ok=True)
    env = {**os.environ, "SPLUNK_HOME": str(home), LOG_LEVEL_ENV: log_level}
    stdin = input_xml(checkpoint_dir, {"account": ACCOUNT, "signin_lookback_hours": "24"},
                      server_uri=server_uri, session_key=session_key)
    return subprocess.run([sys.executable, str(app_dir(home) / "bin" / "entra_app_secrets.py")], input=stdin,
                          capture_output=True, text=True, env=env, timeout=180)


def validate(home, params, server_uri, session_key):
    env = {**os.environ, "SPLUNK_HOME": str(home)}
    return subprocess.run([sys.executable, str(app_dir(home) / "bin" / "entra_app_secrets.py"),
                           "--validate-arguments"], input=validation_xml(params, server_uri, session_key),
                          capture_output=True, text=True, env=env, timeout=120)


def closed_port_uri():
    """A loopback https URI nobody listens on: splunkd down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"https://127.0.0.1:{port}"


def is_kvstore(request):
    """A request for the input's checkpoints (KV store), not for its configuration."""
    return "/storage/collections/" in request.path


def written_bytes(home, result, checkpoint_dir, splunkd=None):
    """Everything the run left behind: stdout, stderr, every file under $SPLUNK_HOME, the checkpoints
    (files, and the KV-store documents of the fake splunkd)."""
    texts = {"stdout": result.stdout, "stderr": result.stderr}
    if splunkd is not None:
        for collection in ("ta_entra_app_secrets_checkpoints", "ta_entra_app_secrets_response_journal",
                           "ta_entra_app_secrets_snapshots"):
            texts[f"KV store {collection}"] = json.dumps(splunkd.kvstore.documents(collection))
    for folder in (home, checkpoint_dir):
        for root, _dirs, files in os.walk(folder):
            for name in files:
                if not name.endswith(".py"):
                    texts[os.path.join(root, name)] = open(os.path.join(root, name), encoding="utf-8",
                                                           errors="replace").read()
    return texts


def secret_needles(simulator, splunkd, issued_tokens, *, secret=None):
    """What must never be written: the client secret, the private key (every line of its base64), tokens."""
    key_pem = pem_text(simulator.collector.certificate_path)
    key_body = key_pem[key_pem.index("PRIVATE KEY-----") + 16:key_pem.index("-----END")]
    needles = {"session key": splunkd.session_key,
               **{f"private key line {n}": line for n, line in enumerate(key_body.split()) if len(line) > 20},
               **{f"token {n}": token for n, token in enumerate(issued_tokens)}}
    if secret:
        needles["client secret"] = secret
    return needles


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


def collector_finding(events, simulator):
    findings = [e["event"] for e in events if e["sourcetype"] == "entra:app:finding"]
    return [f for f in findings if f["app_id"] == simulator.collector.client_id]


# ------------------------------------------------------------------------------- the fake itself

def test_conf_endpoints_answer_as_splunkd_in_atom_and_json(splunkd):
    save_like_ucc(splunkd, ACCOUNT_CONF, "prod", {"tenant_id": "contoso.onmicrosoft.com", "client_secret": "s3"},
                  ENCRYPTED)
    assert splunkd.confs.local(APP_ID, ACCOUNT_CONF) == {"prod": {"tenant_id": "contoso.onmicrosoft.com",
                                                                  "client_secret": "******"}}
    base = f"{splunkd.server_uri}/servicesNS/nobody/{APP_ID}"
    auth = {"Authorization": f"Splunk {splunkd.session_key}"}
    listed = requests.get(f"{base}/configs/conf-{ACCOUNT_CONF}", params={"output_mode": "json", "count": "-1"},
                          headers=auth, verify=False, timeout=10)
    assert listed.status_code == 200 and listed.headers["Content-Type"].startswith("application/json")
    [entry] = listed.json()["entry"]
    assert entry["name"] == "prod" and entry["acl"]["app"] == APP_ID and entry["acl"]["sharing"] == "app"
    assert entry["content"]["client_secret"] == "******" and entry["content"]["eai:appName"] == APP_ID
    missing = requests.get(f"{base}/configs/conf-{ACCOUNT_CONF}/dev", params={"output_mode": "json"}, headers=auth,
                           verify=False, timeout=10)
    assert missing.status_code == 404
    assert missing.json() == {"messages": [{"type": "ERROR", "text": "Could not find object id=dev"}]}
    again = requests.post(f"{base}/configs/conf-{ACCOUNT_CONF}", data={"name": "prod"}, headers=auth, verify=False,
                          timeout=10)
    assert again.status_code == 409 and "An object with name=prod already exists" in again.text
    assert requests.get(f"{base}/properties/no_such_file", headers=auth, verify=False, timeout=10).status_code == 404
    shipped = requests.get(f"{base}/properties/ta_entra_app_secrets_settings/response", headers=auth, verify=False,
                           timeout=10)
    assert shipped.status_code == 200 and "<title>recent_use_days</title>" in shipped.text
    assert requests.delete(f"{base}/configs/conf-{ACCOUNT_CONF}/prod", headers=auth, verify=False,
                           timeout=10).status_code == 200
    assert splunkd.confs.local(APP_ID, ACCOUNT_CONF) == {}
    assert requests.get(f"{base}/configs/conf-{ACCOUNT_CONF}", headers={"Authorization": "Splunk wrong"},
                        verify=False, timeout=10).status_code == 401


def test_encrypted_fields_are_one_credential_per_stanza_chunked_as_solnlib_does(splunkd, simulator):
    save_certificate_account(splunkd, simulator)
    conf = splunkd.confs.local(APP_ID, ACCOUNT_CONF)[ACCOUNT]
    assert conf["certificate"] == "******" and "PRIVATE KEY" not in json.dumps(conf)
    chunks = {user: text for (app, realm, user), text in splunkd.stored().items() if realm == UCC_REALM}
    sep = "``splunk_cred_sep``"
    assert len(chunks) >= 3 and all(user.startswith(f"{ACCOUNT}{sep}") for user in chunks)
    assert all(len(text) <= 255 for text in chunks.values())
    ordered = [chunks[f"{ACCOUNT}{sep}{n}"] for n in range(1, len(chunks) + 1)]
    assert ordered[-1].startswith(f"{sep}S{sep}P{sep}L{sep}U{sep}N{sep}K")   # solnlib's end mark
    assert json.loads("".join(ordered[:-1])) == {"certificate": pem_text(simulator.collector.certificate_path)}
    account = settings.read_account(splunkd.server_uri, splunkd.session_key, ACCOUNT)
    assert account.certificate_pem == pem_text(simulator.collector.certificate_path).strip()
    assert account.auth_method == "certificate" and account.ca_pem and account.verify is True


def test_a_credential_another_process_created_first_is_updated_not_fatal(splunkd, simulator):
    """After a restart every input starts at once, each moving the same old secret: solnlib answers a 409 by
    updating the entry (POST to the entity), and the run goes on."""
    legacy_account(splunkd, simulator, client_secret="typed-in-value")
    sep = "``splunk_cred_sep``"
    splunkd.put(APP_ID, UCC_REALM, f"{ACCOUNT}{sep}1", "stale chunk from another process")
    account = settings.read_account(splunkd.server_uri, splunkd.session_key, ACCOUNT)
    assert account.client_secret == "typed-in-value"
    stored = {user: text for (_, realm, user), text in splunkd.stored().items() if realm == UCC_REALM}
    assert json.loads(stored[f"{ACCOUNT}{sep}1"]) == {"client_secret": "typed-in-value"}
    assert ("POST", 409) in [(r.method, r.status) for r in splunkd.requests]
    assert settings.read_account(splunkd.server_uri, splunkd.session_key, ACCOUNT).client_secret == "typed-in-value"


def test_the_add_on_proxy_and_log_level_come_from_the_settings_conf(splunkd, simulator):
    save_like_ucc(splunkd, "ta_entra_app_secrets_settings", "proxy",
                  {"proxy_enabled": "1", "proxy_type": "http", "proxy_url": "proxy.corp", "proxy_port": "3128",
                   "proxy_username": "svc", "proxy_password": "pr0xy:pass"}, ["proxy_password"])
    save_like_ucc(splunkd, "ta_entra_app_secrets_settings", "logging", {"loglevel": "DEBUG"}, [])
    save_secret_account(splunkd, simulator, "s")
    assert settings.proxy_settings(splunkd.server_uri, splunkd.session_key) == {
        "url": "http://proxy.corp:3128", "username": "svc", "password": "pr0xy:pass"}
    account = settings.read_account(splunkd.server_uri, splunkd.session_key, ACCOUNT)
    assert account.proxies["https"] == "http://svc:pr0xy%3Apass@proxy.corp:3128"
    assert settings.log_level(splunkd.server_uri, splunkd.session_key) == "DEBUG"
    # the app's shipped [response] defaults are served too
    assert settings.read_settings(splunkd.server_uri, splunkd.session_key, "response")["recent_use_days"] == "7"


def test_a_stuck_splunkd_gives_up_with_a_message(splunkd, monkeypatch):
    from connector.errors import ConfigError

    monkeypatch.setattr(settings, "SPLUNKD_TIMEOUT_S", 0.5)
    splunkd.hang()
    with pytest.raises(ConfigError, match=r"no answer from splunkd at https://127\.0\.0\.1:\d+ while reading "
                                          r"account 'prod' \(ta_entra_app_secrets_account\.conf\) \(.*timed out"):
        settings.read_account(splunkd.server_uri, splunkd.session_key, "prod")


# ------------------------------------------------------------------------------- end to end

def test_a_certificate_account_stored_only_through_rest_scans_the_simulator(
        simulator, splunkd, splunk_home, tmp_path, issued_tokens):
    save_certificate_account(splunkd, simulator)
    saved = len(splunkd.requests)
    checkpoints = tmp_path / "checkpoints"
    result = run_input(splunk_home, checkpoints, splunkd.server_uri, splunkd.session_key, log_level="DEBUG")
    assert result.returncode == 0, result.stderr
    events = stream_events(result.stdout)
    [harvest] = harvest_events(events)
    assert (harvest["status"], harvest["auth_method"]) == ("success", "certificate"), harvest["errors"]
    [own] = collector_finding(events, simulator)
    assert own["is_collector_app"] is True and own["key_id"] == simulator.collector.secret_key_id
    assert [r for r in simulator.requests if r.app == simulator.collector.client_id]
    assert not (app_dir(splunk_home) / "local").exists()
    assert {r.method for r in splunkd.requests[saved:] if not is_kvstore(r)} == {"GET"}, \
        "reading an account writes nothing (the checkpoints go to the KV store)"
    assert issued_tokens
    assert_nothing_secret(written_bytes(splunk_home, result, checkpoints, splunkd),
                          secret_needles(simulator, splunkd, issued_tokens))
    # no temporary copy of the key or the CA bundle is left anywhere the run could write
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".pem")]


def test_a_secret_account_stored_only_through_rest_scans_the_simulator(
        simulator, splunkd, splunk_home, tmp_path, issued_tokens):
    secret = simulator.collector.secret
    save_secret_account(splunkd, simulator, secret)
    checkpoints = tmp_path / "checkpoints"
    result = run_input(splunk_home, checkpoints, splunkd.server_uri, splunkd.session_key, log_level="DEBUG")
    assert result.returncode == 0, result.stderr
    events = stream_events(result.stdout)
    [harvest] = harvest_events(events)
    assert (harvest["status"], harvest["auth_method"]) == ("success", "secret"), harvest["errors"]
    assert collector_finding(events, simulator)[0]["is_collector_app"] is True
    assert not (app_dir(splunk_home) / "local").exists()
    assert_nothing_secret(written_bytes(splunk_home, result, checkpoints, splunkd),
                          secret_needles(simulator, splunkd, issued_tokens, secret=secret))


@pytest.mark.parametrize("where", ["old-realm", "typed-into-conf"])
def test_a_secret_from_the_previous_release_works_and_moves_to_the_ucc_realm(
        simulator, splunkd, splunk_home, tmp_path, issued_tokens, where):
    secret = simulator.collector.secret
    if where == "old-realm":
        legacy_account(splunkd, simulator, client_secret="********")
        splunkd.put(APP_ID, LEGACY_REALM, ACCOUNT, secret)
    else:
        legacy_account(splunkd, simulator, client_secret=secret)
    checkpoints = tmp_path / "checkpoints"
    first = run_input(splunk_home, checkpoints, splunkd.server_uri, splunkd.session_key)
    assert first.returncode == 0, first.stderr
    assert harvest_events(stream_events(first.stdout))[0]["status"] == "success"
    stored = splunkd.stored()
    assert (APP_ID, LEGACY_REALM, ACCOUNT) not in stored
    chunks = [text for (app, realm, user), text in sorted(stored.items()) if realm == UCC_REALM]
    assert json.loads("".join(chunks[:-1])) == {"client_secret": secret}
    conf = splunkd.confs.local(APP_ID, ACCOUNT_CONF)[ACCOUNT]
    assert conf["client_secret"] == "******" and conf["client_id"] == simulator.collector.client_id
    assert "account.secret_moved" in log_text(splunk_home)

    # the next run reads it from the UCC realm and writes nothing
    before = len(splunkd.requests)
    second = run_input(splunk_home, checkpoints, splunkd.server_uri, splunkd.session_key)
    assert harvest_events(stream_events(second.stdout))[0]["status"] == "success"
    assert {r.method for r in splunkd.requests[before:] if not is_kvstore(r)} == {"GET"}
    for result in (first, second):
        assert_nothing_secret(written_bytes(splunk_home, result, checkpoints, splunkd),
                              secret_needles(simulator, splunkd, issued_tokens, secret=secret))


def test_without_write_access_an_old_secret_keeps_working_where_it_is(
        simulator, splunkd, splunk_home, tmp_path, issued_tokens):
    secret = simulator.collector.secret
    legacy_account(splunkd, simulator)
    splunkd.put(APP_ID, LEGACY_REALM, ACCOUNT, secret)
    splunkd.deny("admin_all_objects")
    result = run_input(splunk_home, tmp_path / "checkpoints", splunkd.server_uri, splunkd.session_key)
    assert result.returncode == 0, result.stderr
    assert harvest_events(stream_events(result.stdout))[0]["status"] == "success"
    assert splunkd.stored() == {(APP_ID, LEGACY_REALM, ACCOUNT): secret}
    assert "account.secret_not_moved" in log_text(splunk_home)
    assert_nothing_secret(written_bytes(splunk_home, result, tmp_path / "checkpoints", splunkd),
                          secret_needles(simulator, splunkd, issued_tokens, secret=secret))


def test_a_bad_field_is_one_sentence_in_validate_arguments_and_in_the_health_event(
        simulator, splunkd, splunk_home, tmp_path):
    save_certificate_account(splunkd, simulator, client_id="not-a-guid")
    sentence = "account 'sim': client_id 'not-a-guid' must be the application (client) ID GUID"
    checked = validate(splunk_home, {"account": ACCOUNT}, splunkd.server_uri, splunkd.session_key)
    assert checked.returncode == 1
    assert re.search(r"<message>(.*)</message>", checked.stdout).group(1) == sentence
    result = run_input(splunk_home, tmp_path / "checkpoints", splunkd.server_uri, splunkd.session_key)
    assert result.returncode == 0, result.stderr
    [harvest] = harvest_events(stream_events(result.stdout))
    assert harvest["status"] == "failure" and [e["message"] for e in harvest["errors"]] == [sentence]
    assert f"ERROR entra_app_secrets://{ACCOUNT}: {sentence}" in result.stderr
    assert simulator.requests == [] or all(r.app != simulator.collector.client_id for r in simulator.requests)


def expired_certificate_pem():
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old collector")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(datetime.datetime(2023, 1, 1, tzinfo=datetime.timezone.utc))
            .not_valid_after(datetime.datetime(2024, 2, 29, tzinfo=datetime.timezone.utc))
            .sign(key, hashes.SHA256()))
    return (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()) + cert.public_bytes(serialization.Encoding.PEM)).decode()


@pytest.mark.parametrize("certificate, sentence", [
    (expired_certificate_pem, "account 'sim': certificate expired on 2024-02-29; register a new certificate on the "
                              "app and store it here"),
    (lambda: "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "account 'sim': certificate is not PEM text; it must hold the PEM "
                                             "private key and the PEM certificate registered on the app, each a "
                                             "block starting with -----BEGIN"),
], ids=["expired", "not-pem"])
def test_a_bad_certificate_in_storage_is_one_sentence_at_validation(simulator, splunkd, splunk_home, certificate,
                                                                    sentence):
    material = certificate()
    save_certificate_account(splunkd, simulator, certificate=material)
    checked = validate(splunk_home, {"account": ACCOUNT}, splunkd.server_uri, splunkd.session_key)
    assert checked.returncode == 1
    assert re.search(r"<message>(.*)</message>", checked.stdout).group(1) == sentence
    needle = material.splitlines()[1] if "\n" in material else material
    assert needle not in checked.stdout + checked.stderr


# ------------------------------------------------------------------------------- error paths

def _unreachable(splunkd):
    return {"server_uri": closed_port_uri()}


def _no_read_capability(splunkd):
    splunkd.deny("list_storage_passwords")
    return {}


def _wrong_session_key(splunkd):
    return {"session_key": "a-session-key-splunkd-never-issued"}


def _nothing_stored(splunkd):
    return {}


@pytest.mark.parametrize("break_it,message", [
    (_unreachable, r"^no answer from splunkd at https://127\.0\.0\.1:\d+ while reading account 'sim' "
                   r"\(ta_entra_app_secrets_account\.conf\) \(.*\); check that splunkd is running"),
    (_no_read_capability, r"^splunkd refused reading account 'sim' \(ta_entra_app_secrets_account\.conf\) "
                          r"\(HTTP 403\); the role running the add-on needs the admin_all_objects capability$"),
    (_wrong_session_key, r"^splunkd at https://127\.0\.0\.1:\d+ rejected the session key \(HTTP 401\) while "
                         r"reading account 'sim'.*restart the input$"),
    (_nothing_stored, r"^account 'sim': client_secret is empty but credential_type is client_secret; enter the "
                      r"app's client secret$"),
], ids=["splunkd-down", "no-list-capability", "wrong-session-key", "no-secret-stored"])
def test_no_account_gives_one_message_that_says_what_to_fix(
        simulator, splunkd, splunk_home, tmp_path, issued_tokens, break_it, message):
    secret = simulator.collector.secret
    if break_it is _nothing_stored:
        splunkd.confs.put(APP_ID, ACCOUNT_CONF, ACCOUNT, {**account_fields(simulator),
                                                          "credential_type": "client_secret"})
    else:
        save_secret_account(splunkd, simulator, secret)
    target = {"server_uri": splunkd.server_uri, "session_key": splunkd.session_key, **break_it(splunkd)}
    checkpoints = tmp_path / "checkpoints"

    result = run_input(splunk_home, checkpoints, **target)

    assert result.returncode == 0, result.stderr      # splunkd reads the failure from the events and logs
    events = stream_events(result.stdout)
    assert [e["sourcetype"] for e in events] == ["entra:harvest"]
    harvest = events[0]["event"]
    assert (harvest["status"], harvest["account"]) == ("failure", ACCOUNT)
    [error] = harvest["errors"]
    assert (error["stage"], error["code"]) == ("credentials", "ConfigError")
    assert re.search(message, error["message"]), error["message"]
    assert f"ERROR entra_app_secrets://{ACCOUNT}: {error['message']}" in result.stderr   # splunkd.log
    assert error["message"] in log_text(splunk_home).replace('\\"', '"')
    assert issued_tokens == [] and simulator.requests == [], "no sign-in may be tried without an account"
    assert_nothing_secret(written_bytes(splunk_home, result, checkpoints, splunkd),
                          {"client secret": secret, "session key": target["session_key"]})
