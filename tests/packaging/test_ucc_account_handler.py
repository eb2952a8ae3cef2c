"""The Accounts tab's REST handler as built by ucc-gen, run the way splunkd runs it.

The built app is unpacked under a fake $SPLUNK_HOME/etc/apps/ (no local/ folder anywhere); the generated
bin/ta_entra_app_secrets_rh_account.py runs in its own process with lib/ from the tarball (splunktaucclib,
solnlib, splunklib, connector) and tests/fakes/splunk_admin for Splunk's `splunk.admin`; it talks to a
fake splunkd (storage/passwords from tests/fakes/splunkd.py, configs/conf-* from tests/fakes/splunkd_conf.py through FakeSplunkd.confs)
and, for Test connection, to the Entra simulator over HTTPS with MSAL.
"""
import datetime
import json
import os
import tarfile

import pytest

from tests.fakes.splunkd import FakeSplunkd
from tests.fakes import splunkd_eai
from tests.fakes.splunkd_eai import EaiError, call

APP = "TA-entra-app-secrets"
ACCOUNT_CONF = "ta_entra_app_secrets_account"
REALM = f"__REST_CREDENTIAL__#{APP}#configs/conf-{ACCOUNT_CONF}"
SEP = "``splunk_cred_sep``"
END_MARK = ("``splunk_cred_sep``S``splunk_cred_sep``P``splunk_cred_sep``L``splunk_cred_sep``"
            "U``splunk_cred_sep``N``splunk_cred_sep``K``splunk_cred_sep``")


@pytest.fixture(scope="module")
def splunk_home(app_tarball, tmp_path_factory):
    home = tmp_path_factory.mktemp("splunk_home")
    apps = home / "etc" / "apps"
    apps.mkdir(parents=True)
    with tarfile.open(app_tarball) as tar:
        tar.extractall(apps, filter="data")
    assert not (apps / APP / "local").exists()
    return home


@pytest.fixture
def splunkd(tmp_path):
    server = FakeSplunkd().start(tmp_path / "tls")
    yield server
    server.stop()


@pytest.fixture
def save(splunk_home, splunkd):
    script = str(splunk_home / "etc" / "apps" / APP / "bin" / "ta_entra_app_secrets_rh_account.py")

    def run(action, name, **fields):
        return call(script, action, name, fields, session_key=splunkd.session_key,
                    splunkd_uri=splunkd.server_uri, app=APP)
    return run


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def form(sim, identity="collector", **overrides):
    """What the Accounts tab posts for a certificate account of a simulator identity (PEM pasted)."""
    app = sim.identities[identity]
    fields = dict(tenant_id=sim.tenant_id, client_id=app.client_id, cloud="global", credential_type="certificate",
                  certificate=_read(app.certificate_path), authority_host=sim.base_url, graph_host=sim.base_url,
                  ca_bundle=_read(sim.ca_path), test_connection="1")
    fields.update(overrides)
    return fields


def stored_secret_json(splunkd, username):
    """Join solnlib's chunks (<user>``splunk_cred_sep``<n>, up to the end mark) and parse the JSON."""
    chunks = {user: password for (app, realm, user), password in splunkd.stored().items()
              if app == APP and realm == REALM and user.startswith(username + SEP)}
    text = ""
    for index in range(1, len(chunks) + 1):
        part = chunks[f"{username}{SEP}{index}"]
        if part == END_MARK:
            break
        text += part
    return json.loads(text)


def test_a_certificate_account_saved_through_the_handler_is_stored_as_the_contract_says(save, splunkd, clean_simulator):
    fields = form(clean_simulator)
    save("create", "contoso", **fields)
    stanza = splunkd.confs.local(APP, ACCOUNT_CONF)["contoso"]
    assert stanza["certificate"] == "******", "the conf shows solnlib's placeholder, never the PEM"
    for key in ("tenant_id", "client_id", "cloud", "credential_type", "authority_host", "graph_host", "ca_bundle"):
        assert stanza[key] == fields[key], key
    assert stored_secret_json(splunkd, "contoso") == {"certificate": fields["certificate"]}
    assert len(fields["certificate"]) > 255, "long enough that solnlib splits it into several chunks"
    # Test connection signed in: the simulator issued a token and served the app role assignments
    paths = [request.path for request in clean_simulator.requests]
    assert any("appRoleAssignments" in path for path in paths), paths
    # what the test found is kept with the account, for the Accounts table's "Last connection test"
    assert "holds every Graph permission it needs" in stanza["connection_report"]
    assert "Application.Read.All" in stanza["connection_report"] and "RoleManagement.Read.Directory" in stanza["connection_report"]
    # reading it back through the handler masks the secret
    listed = save("list", "contoso")
    assert listed["contoso"]["certificate"] == "******" and listed["contoso"]["tenant_id"] == fields["tenant_id"]
    assert listed["contoso"]["connection_report"] == stanza["connection_report"]


def test_editing_without_retyping_the_certificate_keeps_and_checks_the_stored_one(save, splunkd, clean_simulator):
    fields = form(clean_simulator)
    save("create", "contoso", **fields)
    save("edit", "contoso", **{**fields, "certificate": "******", "cloud": "global", "test_connection": "0"})
    assert stored_secret_json(splunkd, "contoso") == {"certificate": fields["certificate"]}
    assert splunkd.confs.local(APP, ACCOUNT_CONF)["contoso"]["connection_report"].startswith("Not tested at the last save")
    # the stored certificate is what gets checked: a wrong client id is refused with the stored PEM
    with pytest.raises(EaiError, match="client_id 'not-a-guid' must be the application"):
        save("edit", "contoso", **{**fields, "certificate": "******", "client_id": "not-a-guid"})


@pytest.mark.parametrize("change, sentence", [
    ({"tenant_id": "contoso"}, "tenant_id 'contoso' must be the directory (tenant) ID GUID or a verified domain"),
    ({"certificate": "MIIB not a pem"}, "certificate is not PEM text"),
    ({"certificate": "KEY-ONLY"}, "certificate is missing the certificate; it must hold both the PEM private key"),
    ({"certificate": "CERT-ONLY"}, "certificate is missing the private key"),
    ({"graph_host": "http://graph.example.net"}, "graph_host 'http://graph.example.net' must be an https URL"),
    ({"ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle '/nonexistent/ca.pem' is not a readable file"),
])
def test_a_bad_account_is_refused_with_one_sentence_naming_the_field_and_nothing_is_stored(
        save, splunkd, clean_simulator, change, sentence):
    fields = form(clean_simulator)
    pem = fields["certificate"]
    key_block = pem[:pem.index("-----END PRIVATE KEY-----") + len("-----END PRIVATE KEY-----")] \
        if "-----END PRIVATE KEY-----" in pem else pem
    substitutes = {"KEY-ONLY": key_block, "CERT-ONLY": pem.replace(key_block, "")}
    change = {key: substitutes.get(value, value) for key, value in change.items()}
    with pytest.raises(EaiError) as refused:
        save("create", "contoso", **{**fields, **change})
    assert sentence in refused.value.message
    assert "REST Error [400]" in refused.value.message
    assert not [line for line in pem.splitlines() if len(line) > 40 and line in refused.value.message], \
        "no key or certificate material comes back in the refusal"
    assert splunkd.confs.local(APP, ACCOUNT_CONF) == {} and splunkd.stored() == {}, "a refused save writes nothing"


def test_an_expired_certificate_is_refused_with_its_date(save, splunkd, clean_simulator):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired")])
    not_after = datetime.datetime(2025, 3, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(not_after - datetime.timedelta(days=365)).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    pem = (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()) + cert.public_bytes(serialization.Encoding.PEM)).decode()
    with pytest.raises(EaiError, match="certificate expired on 2025-03-01"):
        save("create", "contoso", **form(clean_simulator, certificate=pem))
    assert splunkd.stored() == {}


def test_test_connection_refuses_an_app_without_the_graph_permissions(save, splunkd, clean_simulator):
    with pytest.raises(EaiError) as refused:
        save("create", "limited", **form(clean_simulator, "limited"))
    message = refused.value.message
    assert "lacks Graph application permissions" in message and "AuditLog.Read.All" in message
    assert "Untick Test connection on save" in message
    assert splunkd.confs.local(APP, ACCOUNT_CONF) == {}
    # the admin may still save it knowingly
    save("create", "limited", **form(clean_simulator, "limited", test_connection="0"))
    assert "limited" in splunkd.confs.local(APP, ACCOUNT_CONF)


def test_a_client_secret_account_stores_the_secret_encrypted(save, splunkd, clean_simulator, issued_tokens):
    app = clean_simulator.identities["collector"]
    fields = form(clean_simulator, credential_type="client_secret", certificate="", client_secret=app.secret)
    del splunkd_eai.OUTPUTS[:]
    save("create", "secretive", **fields)
    save("list", "secretive")
    assert issued_tokens, "Test connection signed in with the secret"
    written = b"".join(splunkd_eai.OUTPUTS)
    for secret in (app.secret, *issued_tokens, splunkd.session_key):
        assert secret.encode() not in written, "nothing the handler writes holds a secret, token or session key"
    stanza = splunkd.confs.local(APP, ACCOUNT_CONF)["secretive"]
    assert stanza["client_secret"] == "******" and app.secret not in json.dumps(stanza)
    assert stored_secret_json(splunkd, "secretive") == {"client_secret": app.secret}


def test_splunkd_refuses_an_argument_the_handler_did_not_declare(save, splunkd, clean_simulator):
    with pytest.raises(EaiError, match='Argument "client_secret_value" is not supported by this handler'):
        save("create", "contoso", **form(clean_simulator, client_secret_value="x"))


def test_an_account_saved_only_through_the_handler_is_what_the_packaged_input_scans(
        save, splunk_home, splunkd, clean_simulator, tmp_path, issued_tokens):
    """The whole Splunk Web path on the built app, with no local/ anywhere: the Accounts tab's handler
    stores a certificate account (PEM and CA pasted), then the packaged modular input, started as splunkd
    starts it, reads that account back through splunkd, signs in with the PEM from storage/passwords and
    scans the tenant; its checkpoints land in the KV store."""
    import subprocess
    import sys
    import xml.etree.ElementTree as ET
    from xml.sax.saxutils import escape

    fields = form(clean_simulator)
    save("create", "contoso", **{**fields, "test_connection": "0"})
    script = splunk_home / "etc" / "apps" / APP / "bin" / "entra_app_secrets.py"
    checkpoint_dir = tmp_path / "checkpoints"
    checkpoint_dir.mkdir()
    stdin = (f'<?xml version="1.0" encoding="UTF-8"?><input><server_host>splunk-hf1</server_host>'
             f"<server_uri>{escape(splunkd.server_uri)}</server_uri><session_key>{splunkd.session_key}</session_key>"
             f"<checkpoint_dir>{escape(str(checkpoint_dir))}</checkpoint_dir><configuration>"
             f'<stanza name="entra_app_secrets://contoso" app="{APP}"><param name="account">contoso</param>'
             f'<param name="signin_lookback_hours">48</param><param name="index">security</param>'
             f'<param name="interval">3600</param></stanza></configuration></input>')
    env = {key: value for key, value in os.environ.items() if key != "SPLUNK_HOME"}
    result = subprocess.run([sys.executable, str(script)], input=stdin, capture_output=True, text=True, env=env,
                            timeout=300, cwd=str(script.parent))
    assert result.returncode == 0, result.stderr[-3000:]
    events = [json.loads(event.findtext("data")) for event in ET.fromstring(result.stdout).iter("event")]
    harvests = [event for event in events if "run_id" in event]
    assert harvests, result.stderr[-3000:]
    harvest = harvests[-1]
    assert (harvest["status"], harvest["auth_method"]) == ("success", "certificate"), harvest.get("errors")
    assert harvest["counts"]["findings"] > 0
    assert os.listdir(checkpoint_dir) == [], "under splunkd the checkpoints go to the KV store"
    assert splunkd.kvstore.documents("ta_entra_app_secrets_checkpoints")
    written = result.stdout + result.stderr + json.dumps(splunkd.kvstore.documents("ta_entra_app_secrets_checkpoints"))
    key_lines = [line for line in fields["certificate"].splitlines() if line and not line.startswith("-----")]
    for needle in (*key_lines[1:4], splunkd.session_key, *issued_tokens):
        assert needle not in written
