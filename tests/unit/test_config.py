"""Accounts from fields, .conf files and CLI flags; account_problems, one sentence per field; certificates as
PEM text or a file."""
import argparse
import datetime
import hashlib
import os
import textwrap

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connector import conf_files
from connector.config import (CLOUDS, Account, account_certificate, account_from_cli, account_from_fields,
                              account_problems, certificate_from_pem, find_account_for_tenant, load_account,
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
    assert "Splunk Web" in str(caught.value) and "ENTRA_CLIENT_SECRET" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_masked_client_secret_in_a_conf_file_is_fine(tmp_path):
    write_conf(tmp_path, "local", f"[masked]\ntenant_id = {TENANT}\nclient_id = {CLIENT}\nclient_secret = ********\n")
    assert load_accounts(str(tmp_path))["masked"].client_secret is None


def test_conf_parser_follows_splunk_rules():
    parsed = conf_files.parse_conf_text("top = 1\n[a]\nkey = one \\\ntwo\nKey = x = y\n# comment = no\n[a]\nmore = 2\n")
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
    assert conf_files.app_dir_from_script("/opt/splunk/etc/apps/TA-entra-app-secrets/bin/entra_app_secrets.py") \
        == "/opt/splunk/etc/apps/TA-entra-app-secrets"
    assert conf_files.default_app_dir({"SPLUNK_HOME": "/opt/splunk"}) == os.path.join(
        "/opt/splunk", "etc", "apps", "TA-entra-app-secrets")
    assert conf_files.default_app_dir({}) is None


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


# -- account_problems: one sentence per field, from the fields a stanza holds ---------------------------------

UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def certificate_pem(not_before, not_after, *, key=None, with_key=True):
    """PEM text of an RSA key and a self-signed certificate valid from not_before to not_after."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "collector")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    text = cert.public_bytes(serialization.Encoding.PEM).decode()
    if with_key:
        text = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode() + text
    return text


@pytest.fixture(scope="module")
def valid_pem():
    return certificate_pem(datetime.datetime(2026, 1, 1, tzinfo=UTC), datetime.datetime(2027, 1, 1, tzinfo=UTC))


def good_fields(**changes):
    return {"tenant_id": TENANT, "client_id": CLIENT, "cloud": "global", **changes}


def test_good_fields_have_no_problem(valid_pem):
    assert account_problems(good_fields(credential_type="certificate", certificate=valid_pem), now=NOW) == []
    assert account_problems(good_fields(credential_type="client_secret", client_secret=SECRET), now=NOW) == []


@pytest.mark.parametrize("changes, sentence", [
    ({"tenant_id": "not a tenant"}, "tenant_id 'not a tenant' must be the directory (tenant) ID GUID or a verified "
                                    "domain such as contoso.onmicrosoft.com"),
    ({"client_id": "1234"}, "client_id '1234' must be the application (client) ID GUID"),
    ({"cloud": "mars"}, "cloud 'mars' must be one of global, usgov, dod, china"),
    ({"authority_host": "http://login.example.net"},
     "authority_host 'http://login.example.net' must be an https URL such as https://login.example.net"),
    ({"graph_host": "https://graph.example.net/v1.0"},
     "graph_host 'https://graph.example.net/v1.0' must be a host only (no path or query)"),
    ({"credential_type": "password"}, "credential_type 'password' must be certificate or client_secret"),
    ({"proxy_port": "99999"}, "proxy_port '99999' must be a port number from 1 to 65535"),
    ({"credential_type": "certificate"}, "certificate is empty but credential_type is certificate; paste or upload "
                                         "the PEM private key and certificate"),
    ({"credential_type": "client_secret"}, "client_secret is empty but credential_type is client_secret; enter the "
                                           "app's client secret"),
    ({"ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle '/nonexistent/ca.pem' is not a readable file; paste the CA "
                                           "certificate as PEM text instead, or fix the path"),
])
def test_each_bad_field_is_one_sentence_naming_it(changes, sentence):
    assert account_problems(good_fields(**changes), now=NOW) == [sentence]


def test_an_expired_certificate_says_the_date(valid_pem):
    expired = certificate_pem(datetime.datetime(2024, 1, 1, tzinfo=UTC), datetime.datetime(2025, 3, 31, tzinfo=UTC))
    assert account_problems(good_fields(certificate=expired), now=NOW) == [
        "certificate expired on 2025-03-31; register a new certificate on the app and store it here"]
    # `now` decides: the valid one has expired by 2027-06
    later = datetime.datetime(2027, 6, 1, tzinfo=UTC)
    assert account_problems(good_fields(certificate=valid_pem), now=later) == [
        "certificate expired on 2027-01-01; register a new certificate on the app and store it here"]


def test_a_not_yet_valid_certificate_says_the_date():
    future = certificate_pem(datetime.datetime(2026, 9, 15, tzinfo=UTC), datetime.datetime(2028, 1, 1, tzinfo=UTC))
    assert account_problems(good_fields(certificate=future), now=NOW) == [
        "certificate is not valid before 2026-09-15; use a certificate that is valid now"]


def test_a_certificate_without_its_private_key(valid_pem):
    only_cert = valid_pem[valid_pem.index("-----BEGIN CERTIFICATE-----"):]
    problems = account_problems(good_fields(certificate=only_cert), now=NOW)
    assert problems == ["certificate is missing the private key; it must hold both the PEM private key and the PEM "
                        "certificate registered on the app"]


def test_text_that_is_not_a_pem():
    problems = account_problems(good_fields(certificate="MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"), now=NOW)
    assert problems == ["certificate is not PEM text; it must hold the PEM private key and the PEM certificate "
                        "registered on the app, each a block starting with -----BEGIN"]
    assert account_problems(good_fields(ca_bundle="-----BEGIN CERTIFICATE-----\nnot base64\n"
                                                  "-----END CERTIFICATE-----\n"), now=NOW) == [
        "ca_bundle does not hold a valid PEM certificate; paste the CA certificate(s) that sign the authority and "
        "Graph hosts' certificates, or give a file path"]


def test_a_ca_bundle_may_be_pem_text_or_a_path(pki):
    ca_text = open(pki["ca"], encoding="ascii").read()
    assert account_problems(good_fields(ca_bundle=ca_text), now=NOW) == []
    assert account_problems(good_fields(ca_bundle=pki["ca"]), now=NOW) == []
    # a path is only checked on the node that runs the input
    assert account_problems(good_fields(ca_bundle="/elsewhere/ca.pem"), now=NOW, check_files=False) == []


def test_every_problem_at_once_and_no_secret_quoted(valid_pem):
    key_only = valid_pem[:valid_pem.index("-----BEGIN CERTIFICATE-----")]
    fields = {"tenant_id": "x", "client_id": SECRET, "cloud": "z", "client_secret": SECRET, "certificate": key_only,
              "proxy_password": SECRET}
    problems = account_problems(fields, now=NOW)
    assert [p.split(" ")[0] for p in problems] == ["tenant_id", "client_id", "cloud", "certificate"]
    text = " ".join(problems)
    assert "PRIVATE KEY-----\n" not in text and key_only.splitlines()[1] not in text


def test_account_from_fields_reads_the_storage_contract(valid_pem, pki):
    account = account_from_fields("prod", {**good_fields(), "credential_type": "certificate", "certificate": valid_pem,
                                           "client_secret": "******", "ca_bundle": pki["ca"], "unknown": "x"})
    assert account.auth_method == "certificate" and account.certificate_pem == valid_pem.strip()
    assert account.client_secret is None  # solnlib's placeholder is no secret
    assert valid_pem not in repr(account)
    assert account_certificate(account).certificate_pem.startswith("-----BEGIN CERTIFICATE-----")
    legacy = account_from_fields("old", {**good_fields(), "certificate_path": pki["combined"]})
    assert legacy.auth_method == "certificate" and account_certificate(legacy).sha256_thumbprint
    assert account_from_fields("s", {**good_fields(), "credential_type": "client_secret",
                                     "certificate_path": pki["combined"]}).auth_method == "secret"


def test_ca_bundle_text_is_trusted_from_memory_and_a_path_is_passed_to_requests(pki):
    ca_text = open(pki["ca"], encoding="ascii").read()
    assert account_from_fields("a", good_fields(ca_bundle=ca_text)).verify is True
    assert account_from_fields("a", good_fields(ca_bundle=ca_text)).ca_pem == ca_text.strip()
    assert account_from_fields("a", good_fields(ca_bundle=pki["ca"])).verify == pki["ca"]


def test_proxy_fields_and_the_add_on_proxy():
    add_on = {"url": "http://proxy.corp:3128", "username": "svc", "password": "p@ss:word"}
    account = account_from_fields("a", good_fields(), proxy=add_on)
    assert account.proxies["https"] == "http://svc:p%40ss%3Aword@proxy.corp:3128"
    assert "p@ss:word" not in repr(account)
    own = account_from_fields("a", good_fields(proxy_url="own.proxy", proxy_port="8080"), proxy=add_on)
    assert own.proxies == {"http": "http://own.proxy:8080", "https": "http://own.proxy:8080"}
    legacy = account_from_fields("a", good_fields(proxy="http://legacy:8080"))
    assert legacy.proxies["https"] == "http://legacy:8080"


def test_certificate_from_pem_gives_the_thumbprint_of_the_text(pki):
    combined = open(pki["combined"], encoding="ascii").read()
    assert certificate_from_pem(combined).sha256_thumbprint == read_certificate(pki["combined"]).sha256_thumbprint
