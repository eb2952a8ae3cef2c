"""Accounts from .conf files and CLI flags, their validation, certificates, and the Splunk adapter."""
import argparse
import hashlib
import io
import os
import textwrap

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connector.splunk import splunkd
from connector.config import (CLOUDS, Account, account_from_cli, find_account_for_tenant, load_account,
                              load_accounts, read_certificate, validate_account)
from connector.errors import ConfigError

TENANT = "0b1f5c8e-2c4d-4a5e-9f10-7a6b5c4d3e2f"
CLIENT = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
OTHER_CLIENT = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
SECRET = "abc8Q~fake-secret-value-for-tests-only_0123"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """An RSA app certificate (key + cert in one PEM), as an admin would register it."""
    folder = tmp_path_factory.mktemp("pki")
    ca = trustme.CA(key_type=trustme.KeyType.RSA)
    leaf = ca.issue_cert("collector.example.net", key_type=trustme.KeyType.RSA)
    combined = folder / "collector.pem"
    leaf.private_key_and_cert_chain_pem.write_to_path(str(combined))
    ca_path = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    return {"folder": folder, "combined": str(combined), "leaf": leaf, "ca": str(ca_path)}


def write_conf(app_dir, layer, text):
    folder = app_dir / layer
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ta_entra_app_secrets_account.conf").write_text(textwrap.dedent(text), encoding="utf-8")


# -- clouds and the Account value ---------------------------------------------------------------------

def test_clouds_have_the_documented_hosts():
    assert CLOUDS["global"].login_host == "https://login.microsoftonline.com"
    assert CLOUDS["global"].graph_host == "https://graph.microsoft.com"
    assert CLOUDS["usgov"].graph_host == "https://graph.microsoft.us"
    assert CLOUDS["dod"].graph_host == "https://dod-graph.microsoft.us"
    assert CLOUDS["dod"].login_host == "https://login.microsoftonline.us"
    assert CLOUDS["china"].graph_host == "https://microsoftgraph.chinacloudapi.cn"
    assert CLOUDS["china"].login_host == "https://login.partner.microsoftonline.cn"


def test_account_hosts_come_from_the_cloud_unless_overridden():
    account = Account(name="gov", tenant_id=TENANT, client_id=CLIENT, cloud="usgov")
    assert account.authority == f"https://login.microsoftonline.us/{TENANT}"
    assert account.graph_root == "https://graph.microsoft.us"
    assert account.graph_scope == "https://graph.microsoft.us/.default"
    custom = Account(name="sim", tenant_id=TENANT, client_id=CLIENT,
                     authority_host="https://127.0.0.1:8443/", graph_host="https://127.0.0.1:8443")
    assert custom.authority == f"https://127.0.0.1:8443/{TENANT}"
    assert custom.graph_root == "https://127.0.0.1:8443"
    assert custom.has_custom_authority
    # the token scope names the resource, not the host that serves it
    assert custom.graph_scope == "https://graph.microsoft.com/.default"


def test_secret_is_hidden_from_repr_and_chooses_the_auth_method():
    account = Account(name="a", tenant_id=TENANT, client_id=CLIENT).with_secret(SECRET)
    assert SECRET not in repr(account) and SECRET not in str(account)
    assert account.auth_method == "secret"
    assert Account(name="a", tenant_id=TENANT, client_id=CLIENT, certificate_path="/x.pem").auth_method == "certificate"


def test_account_is_frozen():
    account = Account(name="a", tenant_id=TENANT, client_id=CLIENT)
    with pytest.raises(Exception):
        account.tenant_id = "other"


# -- validation -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("tenant", [TENANT, TENANT.upper(), "contoso.onmicrosoft.com", "corp.example.co.uk"])
def test_tenant_may_be_a_guid_or_a_verified_domain(tenant):
    validate_account(Account(name="a", tenant_id=tenant, client_id=CLIENT))


@pytest.mark.parametrize("field_values, fragment", [
    ({"tenant_id": "not a tenant"}, "tenant_id 'not a tenant' must be the directory (tenant) ID GUID or a verified domain"),
    ({"tenant_id": "common"}, "tenant_id 'common'"),
    ({"client_id": "1234"}, "client_id '1234' must be the application (client) ID GUID"),
    ({"cloud": "mars"}, "cloud 'mars' must be one of global, usgov, dod, china"),
    ({"authority_host": "http://login.example.net"}, "authority_host 'http://login.example.net' must be an https URL"),
    ({"graph_host": "graph.example.net"}, "graph_host 'graph.example.net' must be an https URL"),
    ({"graph_host": "https://graph.example.net/v1.0"}, "must be a host only"),
    ({"proxy": "proxy:8080"}, "proxy 'proxy:8080' must be a URL"),
    ({"ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle '/nonexistent/ca.pem' is not a readable file"),
    ({"certificate_path": "/nonexistent/c.pem"}, "certificate_path '/nonexistent/c.pem' cannot be read"),
])
def test_validation_says_what_to_fix(field_values, fragment):
    values = {"name": "prod", "tenant_id": TENANT, "client_id": CLIENT, **field_values}
    with pytest.raises(ConfigError) as caught:
        validate_account(Account(**values))
    assert fragment in str(caught.value)
    assert str(caught.value).startswith("account 'prod': ")


def test_validation_lists_every_problem_at_once():
    with pytest.raises(ConfigError) as caught:
        validate_account(Account(name="p", tenant_id="x", client_id="y", cloud="z"))
    message = str(caught.value)
    assert "tenant_id" in message and "client_id" in message and "cloud" in message


# -- certificates ---------------------------------------------------------------------------------------

def test_certificate_material_and_sha256_thumbprint(pki):
    material = read_certificate(pki["combined"])
    cert = x509.load_pem_x509_certificate(pki["leaf"].cert_chain_pems[0].bytes())
    der = cert.public_bytes(serialization.Encoding.DER)
    assert material.sha256_thumbprint == hashlib.sha256(der).hexdigest().upper()
    assert material.sha1_thumbprint == hashlib.sha1(der).hexdigest().upper()
    assert "PRIVATE KEY" in material.private_key_pem
    assert material.certificate_pem.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" not in repr(material)


def test_certificate_file_without_a_key_is_refused(pki, tmp_path):
    only_cert = tmp_path / "cert.pem"
    only_cert.write_bytes(pki["leaf"].cert_chain_pems[0].bytes())
    with pytest.raises(ConfigError, match="is missing the private key;"):
        read_certificate(str(only_cert))


def test_certificate_file_without_a_certificate_is_refused(pki, tmp_path):
    only_key = tmp_path / "key.pem"
    only_key.write_bytes(pki["leaf"].private_key_pem.bytes())
    with pytest.raises(ConfigError, match="is missing the certificate;"):
        read_certificate(str(only_key))


def test_ec_key_is_refused_because_entra_wants_rsa(tmp_path):
    ca = trustme.CA()
    leaf = ca.issue_cert("ec.example.net", key_type=trustme.KeyType.ECDSA)
    path = tmp_path / "ec.pem"
    leaf.private_key_and_cert_chain_pem.write_to_path(str(path))
    with pytest.raises(ConfigError, match="not RSA"):
        read_certificate(str(path))


def test_key_that_does_not_match_the_certificate_is_refused(pki, tmp_path):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    path = tmp_path / "mismatch.pem"
    path.write_bytes(pem + pki["leaf"].cert_chain_pems[0].bytes())
    with pytest.raises(ConfigError, match="does not belong to its certificate"):
        read_certificate(str(path))


def test_encrypted_key_is_refused_with_advice(pki, tmp_path):
    key = serialization.load_pem_private_key(pki["leaf"].private_key_pem.bytes(), password=None)
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"pass"))
    path = tmp_path / "enc.pem"
    path.write_bytes(encrypted + pki["leaf"].cert_chain_pems[0].bytes())
    with pytest.raises(ConfigError, match="encrypted"):
        read_certificate(str(path))


# -- conf files: layering as splunkd does it --------------------------------------------------------------

def test_local_wins_over_default_key_by_key_and_default_stanza_fills_in(tmp_path, pki):
    write_conf(tmp_path, "default", """
        [default]
        cloud = global
        [prod]
        tenant_id = contoso.onmicrosoft.com
        client_id = 00000000-0000-4000-8000-000000000000
        """)
    write_conf(tmp_path, "local", f"""
        # an admin's comment
        [prod]
        client_id = {CLIENT}
        certificate_path = {pki['combined']}

        [gov]
        tenant_id = {TENANT}
        client_id = {OTHER_CLIENT}
        cloud = USGOV
        ca_bundle = {pki['ca']}
        """)
    accounts = load_accounts(str(tmp_path))
    assert list(accounts) == ["prod", "gov"]
    prod = accounts["prod"]
    assert (prod.tenant_id, prod.client_id, prod.cloud) == ("contoso.onmicrosoft.com", CLIENT, "global")
    assert prod.certificate_path == pki["combined"] and prod.auth_method == "certificate"
    assert accounts["gov"].cloud == "usgov" and accounts["gov"].ca_bundle == pki["ca"]


def test_no_conf_files_means_no_accounts(tmp_path):
    assert load_accounts(str(tmp_path)) == {}


def test_a_bad_stanza_names_the_account_and_the_field(tmp_path):
    write_conf(tmp_path, "local", "[broken]\ntenant_id = nope\nclient_id = " + CLIENT + "\n")
    with pytest.raises(ConfigError, match=r"account 'broken': tenant_id 'nope'"):
        load_accounts(str(tmp_path))


def test_one_account_loads_even_when_another_stanza_is_broken(tmp_path):
    write_conf(tmp_path, "local", f"[broken]\ntenant_id = nope\n[prod]\ntenant_id = {TENANT}\nclient_id = {CLIENT}\n")
    assert load_account(str(tmp_path), "prod").client_id == CLIENT
    with pytest.raises(ConfigError, match="tenant_id 'nope'"):
        load_account(str(tmp_path), "broken")
    with pytest.raises(ConfigError, match=r"no account 'dev' .*\(configured: broken, prod\)"):
        load_account(str(tmp_path), "dev")


def test_a_client_secret_in_a_conf_file_is_refused_and_not_echoed(tmp_path):
    write_conf(tmp_path, "local", f"[leaky]\ntenant_id = {TENANT}\nclient_id = {CLIENT}\nclient_secret = {SECRET}\n")
    with pytest.raises(ConfigError) as caught:
        load_accounts(str(tmp_path))
    assert "storage/passwords" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_masked_client_secret_in_a_conf_file_is_fine(tmp_path):
    write_conf(tmp_path, "local", f"[masked]\ntenant_id = {TENANT}\nclient_id = {CLIENT}\nclient_secret = ********\n")
    assert load_accounts(str(tmp_path))["masked"].client_secret is None


def test_conf_parser_follows_splunk_rules():
    parsed = splunkd.parse_conf_text("top = 1\n[a]\nkey = one \\\ntwo\nKey = x = y\n# comment = no\n[a]\nmore = 2\n")
    assert parsed["default"] == {"top": "1"}
    assert parsed["a"] == {"key": "one \ntwo", "Key": "x = y", "more": "2"}


# -- the CLI ---------------------------------------------------------------------------------------------

def cli_args(**values):
    defaults = dict(account=None, app_dir=None, tenant_id=None, client_id=None, certificate=None, cloud="global",
                    authority_host=None, graph_host=None, ca_bundle=None, proxy=None)
    defaults.update(values)
    return argparse.Namespace(**defaults)


def test_cli_account_with_certificate(pki):
    account = account_from_cli(cli_args(tenant_id=TENANT, client_id=CLIENT, certificate=pki["combined"],
                                        graph_host="https://127.0.0.1:9443", ca_bundle=pki["ca"]), environ={})
    assert account.auth_method == "certificate" and account.client_secret is None
    assert account.graph_root == "https://127.0.0.1:9443" and account.ca_bundle == pki["ca"]


def test_cli_account_takes_the_secret_from_the_environment_only():
    account = account_from_cli(cli_args(tenant_id=TENANT, client_id=CLIENT), environ={"ENTRA_CLIENT_SECRET": SECRET})
    assert account.client_secret == SECRET and account.auth_method == "secret"
    with pytest.raises(ConfigError, match="pass --certificate PEM .* or set ENTRA_CLIENT_SECRET"):
        account_from_cli(cli_args(tenant_id=TENANT, client_id=CLIENT), environ={})


def test_cli_names_missing_flags():
    with pytest.raises(ConfigError, match="give --tenant-id and --client-id"):
        account_from_cli(cli_args(), environ={"ENTRA_CLIENT_SECRET": SECRET})


def test_cli_account_from_conf_with_flag_overrides(tmp_path, pki):
    write_conf(tmp_path, "local", f"[prod]\ntenant_id = {TENANT}\nclient_id = {CLIENT}\n"
                                  f"certificate_path = {pki['combined']}\n")
    account = account_from_cli(cli_args(account="prod", app_dir=str(tmp_path), ca_bundle=pki["ca"]), environ={})
    assert account.name == "prod" and account.ca_bundle == pki["ca"] and account.client_id == CLIENT


def test_cli_account_from_splunk_home(tmp_path, pki):
    app_dir = tmp_path / "etc" / "apps" / "TA-entra-app-secrets"
    write_conf(app_dir, "local", f"[prod]\ntenant_id = {TENANT}\nclient_id = {CLIENT}\n")
    account = account_from_cli(cli_args(account="prod"),
                               environ={"SPLUNK_HOME": str(tmp_path), "ENTRA_CLIENT_SECRET": SECRET})
    assert account.client_secret == SECRET


def test_cli_unknown_account_lists_the_configured_ones(tmp_path):
    write_conf(tmp_path, "local", f"[prod]\ntenant_id = {TENANT}\nclient_id = {CLIENT}\n")
    with pytest.raises(ConfigError, match=r"no account 'dev' .*\(configured: prod\)"):
        account_from_cli(cli_args(account="dev", app_dir=str(tmp_path)), environ={})


# -- accounts for a tenant (response actions) -------------------------------------------------------------

def test_find_account_for_tenant():
    prod = Account(name="prod", tenant_id=TENANT, client_id=CLIENT)
    other = Account(name="other", tenant_id="contoso.onmicrosoft.com", client_id=CLIENT)
    accounts = {"prod": prod, "other": other}
    assert find_account_for_tenant(accounts, TENANT.upper()) is prod
    assert find_account_for_tenant([prod, other], "CONTOSO.onmicrosoft.com") is other
    with pytest.raises(ConfigError, match="no account is configured for tenant"):
        find_account_for_tenant(accounts, "fabrikam.onmicrosoft.com")


def test_find_account_for_tenant_with_a_collector_and_a_responder():
    collector = Account(name="collector", tenant_id=TENANT, client_id=CLIENT)
    responder = Account(name="responder", tenant_id=TENANT, client_id=OTHER_CLIENT)
    with pytest.raises(ConfigError, match=r"several accounts .*\(collector, responder\)"):
        find_account_for_tenant([collector, responder], TENANT)
    assert find_account_for_tenant([collector, responder], TENANT, prefer="responder") is responder
    with pytest.raises(ConfigError, match="is for tenant"):
        find_account_for_tenant([collector, responder], "contoso.onmicrosoft.com", prefer="responder")


# -- splunkd.py: app folder and storage/passwords -----------------------------------------------------------

def test_app_dir_discovery():
    assert splunkd.app_dir_from_script("/opt/splunk/etc/apps/TA-entra-app-secrets/bin/entra_app_secrets.py") \
        == "/opt/splunk/etc/apps/TA-entra-app-secrets"
    assert splunkd.default_app_dir({"SPLUNK_HOME": "/opt/splunk"}) == os.path.join(
        "/opt/splunk", "etc", "apps", "TA-entra-app-secrets")
    assert splunkd.default_app_dir({}) is None


class FakePassword:
    def __init__(self, realm, username, clear_password):
        self.realm, self.username, self.clear_password = realm, username, clear_password


class FakePasswords:
    """The slice of splunklib's StoragePasswords the adapter uses: lookup by name, and list()."""

    def __init__(self, entries, by_name=True):
        self.entries = entries
        self.by_name = by_name
        self.lookups = []

    def __getitem__(self, name):
        self.lookups.append(name)
        if self.by_name:
            for entry in self.entries:
                if f"{entry.realm}:{entry.username}:" == name:
                    return entry
        raise KeyError(name)

    def list(self):
        return list(self.entries)


class FakeService:
    def __init__(self, passwords):
        self.storage_passwords = passwords


def test_secret_is_read_from_the_add_on_realm_by_account_name():
    passwords = FakePasswords([FakePassword("other-app", "prod", "wrong"),
                               FakePassword("TA-entra-app-secrets", "prod", SECRET)])
    assert splunkd.read_account_secret(FakeService(passwords), "prod") == SECRET
    assert passwords.lookups == ["TA-entra-app-secrets:prod:"]


def test_secret_lookup_falls_back_to_matching_realm_and_username():
    passwords = FakePasswords([FakePassword("other-app", "prod", "wrong"),
                               FakePassword("TA-entra-app-secrets", "prod", SECRET)], by_name=False)
    assert splunkd.read_account_secret(FakeService(passwords), "prod") == SECRET


def test_missing_secret_says_where_to_put_it():
    service = FakeService(FakePasswords([FakePassword("other-app", "prod", "wrong")]))
    with pytest.raises(ConfigError, match=r"realm TA-entra-app-secrets, username prod"):
        splunkd.secret_for_account("https://127.0.0.1:8089", "session", "prod", service=service)


class WritablePasswords(FakePasswords):
    def delete(self, username, realm=None):
        for entry in self.entries:
            if (entry.realm, entry.username) == (realm, username):
                self.entries.remove(entry)
                return self
        raise KeyError(f"{realm}:{username}:")

    def create(self, password, username, realm=None):
        self.entries.append(FakePassword(realm, username, password))


def test_storing_a_secret_replaces_the_previous_one_for_that_account_only():
    passwords = WritablePasswords([FakePassword("TA-entra-app-secrets", "prod", "old"),
                                   FakePassword("TA-entra-app-secrets", "dev", "dev-secret")])
    service = FakeService(passwords)
    splunkd.store_account_secret(service, "prod", SECRET)
    splunkd.store_account_secret(service, "new", "n")
    assert splunkd.read_account_secret(service, "prod") == SECRET
    assert splunkd.read_account_secret(service, "dev") == "dev-secret"
    assert splunkd.read_account_secret(service, "new") == "n"
    assert len(passwords.entries) == 3


def test_splunkd_refusing_storage_passwords_names_the_capability():
    from splunklib.binding import HTTPError

    class Refusing:
        @property
        def storage_passwords(self):
            response = type("R", (), {"status": 403, "reason": "Forbidden", "headers": [],
                                      "body": io.BytesIO(b"<response/>")})()
            raise HTTPError(response)

    with pytest.raises(ConfigError, match=r"HTTP 403.*list_storage_passwords"):
        splunkd.secret_for_account("https://127.0.0.1:8089", "session", "prod", service=Refusing())


def test_a_typed_in_secret_moves_to_storage_passwords_and_is_masked(tmp_path):
    write_conf(tmp_path, "local", f"""
        # keep this comment
        [prod]
        tenant_id = {TENANT}
        client_id = {CLIENT}
        client_secret = {SECRET}

        [masked]
        tenant_id = {TENANT}
        client_id = {OTHER_CLIENT}
        client_secret = ********
        """)
    conf = tmp_path / "local" / "ta_entra_app_secrets_account.conf"
    conf.chmod(0o600)
    passwords = WritablePasswords([])
    assert splunkd.migrate_plaintext_secrets(FakeService(passwords), str(tmp_path)) == ["prod"]
    text = conf.read_text()
    assert SECRET not in text and "# keep this comment" in text
    assert text.count("client_secret = ********") == 2
    assert oct(conf.stat().st_mode & 0o777) == "0o600"
    assert [(p.realm, p.username, p.clear_password) for p in passwords.entries] == [
        ("TA-entra-app-secrets", "prod", SECRET)]
    accounts = load_accounts(str(tmp_path))  # the conf is usable now
    assert accounts["prod"].client_secret is None and accounts["prod"].auth_method == "secret"
    assert splunkd.migrate_plaintext_secrets(FakeService(passwords), str(tmp_path)) == []  # nothing left to move


def test_migration_without_a_local_conf_does_nothing(tmp_path):
    assert splunkd.migrate_plaintext_secrets(FakeService(WritablePasswords([])), str(tmp_path)) == []


def test_a_secret_pasted_into_the_wrong_field_is_not_quoted_back(tmp_path):
    """The error names the field to fix but never repeats a secret-shaped value."""
    from connector.config import load_account
    from connector.errors import ConfigError

    pasted = "Abc8Q~pasted-into-client-id-0000000000000"
    (tmp_path / "local").mkdir()
    (tmp_path / "local" / "ta_entra_app_secrets_account.conf").write_text(
        f"[contoso]\ntenant_id = 11111111-2222-3333-4444-555555555555\nclient_id = {pasted}\n")
    with pytest.raises(ConfigError) as raised:
        load_account(str(tmp_path), "contoso")
    assert "client_id" in str(raised.value) and pasted not in str(raised.value)
