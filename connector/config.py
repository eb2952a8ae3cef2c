"""Accounts: which tenant to read, how to sign in, and how to reach Microsoft's hosts.

An account is one stanza of ta_entra_app_secrets_account.conf (or the CLI flags); it becomes a frozen
`Account`. Validation collects every problem and says what to fix. The client secret, when an account
uses one, never comes from a .conf file: it comes from Splunk's storage/passwords (see splunkd.py) or,
for the CLI, from $ENTRA_CLIENT_SECRET.
"""
import dataclasses
import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import urlsplit

from connector.splunk import splunkd
from connector.errors import ConfigError

ACCOUNT_CONF = "ta_entra_app_secrets_account"
SECRET_ENV = "ENTRA_CLIENT_SECRET"
ACCOUNT_FIELDS = ("tenant_id", "client_id", "cloud", "authority_host", "graph_host", "ca_bundle",
                  "certificate_path", "proxy")


@dataclass(frozen=True)
class Cloud:
    name: str
    login_host: str
    graph_host: str


# graph-wire-facts.md section 8 (Microsoft's national cloud deployments page).
CLOUDS = {
    "global": Cloud("global", "https://login.microsoftonline.com", "https://graph.microsoft.com"),
    "usgov": Cloud("usgov", "https://login.microsoftonline.us", "https://graph.microsoft.us"),
    "dod": Cloud("dod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
    "china": Cloud("china", "https://login.partner.microsoftonline.cn", "https://microsoftgraph.chinacloudapi.cn"),
}

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# A verified domain: DNS labels with at least one dot, e.g. contoso.onmicrosoft.com.
_DOMAIN = re.compile(r"^(?=.{4,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


@dataclass(frozen=True)
class Account:
    name: str
    tenant_id: str
    client_id: str
    cloud: str = "global"
    authority_host: Optional[str] = None
    graph_host: Optional[str] = None
    ca_bundle: Optional[str] = None
    certificate_path: Optional[str] = None
    proxy: Optional[str] = None
    client_secret: Optional[str] = field(default=None, repr=False, compare=False)

    @property
    def auth_method(self):
        """certificate when a certificate file is configured (it wins), secret otherwise."""
        return "certificate" if self.certificate_path else "secret"

    @property
    def login_host(self):
        return (self.authority_host or CLOUDS[self.cloud].login_host).rstrip("/")

    @property
    def authority(self):
        """The MSAL authority URL: <login host>/<tenant>."""
        return f"{self.login_host}/{self.tenant_id}"

    @property
    def graph_root(self):
        """Where Graph requests go: the override (private endpoint, simulator) or the cloud's Graph host."""
        return (self.graph_host or CLOUDS[self.cloud].graph_host).rstrip("/")

    @property
    def graph_scope(self):
        # The scope names the resource (the cloud's Graph), not the host we reach it through.
        return f"{CLOUDS[self.cloud].graph_host}/.default"

    @property
    def has_custom_authority(self):
        return bool(self.authority_host)

    @property
    def verify(self):
        """What requests' verify= gets: the account's CA bundle, or True for the default trust store."""
        return self.ca_bundle or True

    @property
    def proxies(self):
        return {"http": self.proxy, "https": self.proxy} if self.proxy else {}

    def with_secret(self, secret):
        return dataclasses.replace(self, client_secret=secret)


@dataclass(frozen=True)
class CertificateMaterial:
    """A PEM credential file read and checked: what MSAL needs, and the thumbprint an admin compares."""
    private_key_pem: str = field(repr=False)
    certificate_pem: str
    sha256_thumbprint: str
    sha1_thumbprint: str
    not_after: str


def read_certificate(path):
    """Read a PEM file holding an unencrypted RSA private key and its certificate; ConfigError otherwise."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConfigError(f"certificate_path {path!r} cannot be read ({exc.strerror}); check the path and that "
                          f"the user running Splunk may read it") from None
    key_block = _pem_block(data, b"PRIVATE KEY")
    cert_block = _pem_block(data, b"CERTIFICATE")
    if key_block is None or cert_block is None:
        missing = " and the ".join(n for n, b in (("private key", key_block), ("certificate", cert_block)) if b is None)
        raise ConfigError(f"certificate_path {path!r} is missing the {missing}; it must hold both the PEM private "
                          f"key and the PEM certificate registered on the app")
    try:
        key = serialization.load_pem_private_key(key_block, password=None)
    except TypeError:
        raise ConfigError(f"the private key in {path!r} is encrypted; store it unencrypted in a file only the "
                          f"Splunk user can read") from None
    except ValueError:
        raise ConfigError(f"the private key in {path!r} is not a valid PEM key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"the private key in {path!r} is not RSA; Entra ID app certificates must be RSA")
    try:
        cert = x509.load_pem_x509_certificate(cert_block)
    except ValueError:
        raise ConfigError(f"the certificate in {path!r} is not a valid PEM certificate") from None
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        raise ConfigError(f"the private key in {path!r} does not belong to its certificate")
    der = cert.public_bytes(serialization.Encoding.DER)
    return CertificateMaterial(
        private_key_pem=key_block.decode("ascii"),
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        sha256_thumbprint=hashlib.sha256(der).hexdigest().upper(),
        sha1_thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),
        not_after=cert.not_valid_after_utc.isoformat(),
    )


def _pem_block(data, label_suffix):
    """The first PEM block whose label ends with label_suffix (PRIVATE KEY covers RSA PRIVATE KEY too)."""
    match = re.search(rb"-----BEGIN ([A-Z ]*" + label_suffix + rb")-----.+?-----END \1-----", data, re.S)
    return match.group(0) if match else None


def _check_https_url(name, value, problems):
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        problems.append(f"{name} {value!r} must be an https URL such as https://login.example.net")
    elif parts.path not in ("", "/") or parts.query:
        problems.append(f"{name} {value!r} must be a host only (no path or query)")


def validate_account(account, *, check_files=True):
    """Raise ConfigError listing every problem in the account, each with what to fix."""
    problems = []
    label = f"account {account.name!r}"
    tenant = account.tenant_id or ""
    if not (_GUID.match(tenant) or _DOMAIN.match(tenant)):
        problems.append(f"tenant_id {tenant!r} must be the directory (tenant) ID GUID or a verified domain "
                        f"such as contoso.onmicrosoft.com")
    if not _GUID.match(account.client_id or ""):
        problems.append(f"client_id {account.client_id!r} must be the application (client) ID GUID")
    if account.cloud not in CLOUDS:
        problems.append(f"cloud {account.cloud!r} must be one of {', '.join(CLOUDS)}")
    for name in ("authority_host", "graph_host"):
        if getattr(account, name):
            _check_https_url(name, getattr(account, name), problems)
    if account.proxy:
        parts = urlsplit(account.proxy)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(f"proxy {account.proxy!r} must be a URL such as http://proxy.example.net:8080")
    if check_files:
        if account.ca_bundle and not _readable(account.ca_bundle):
            problems.append(f"ca_bundle {account.ca_bundle!r} is not a readable file")
        if account.certificate_path:
            try:
                read_certificate(account.certificate_path)
            except ConfigError as exc:
                problems.append(str(exc))
    if problems:
        raise ConfigError(f"{label}: " + "; ".join(problems))
    return account


def _readable(path):
    return os.path.isfile(path) and os.access(path, os.R_OK)


def _clean(value):
    value = (value or "").strip()
    return value or None


def account_from_stanza(name, values):
    """Build an Account from conf key/values; unknown keys are ignored, a client_secret key is refused."""
    if _clean(values.get("client_secret")) not in (None, "********"):
        raise ConfigError(f"account {name!r}: a client secret must not be kept in a .conf file; store it in "
                          f"storage/passwords (realm TA-entra-app-secrets, username {name}) and remove client_secret")
    kwargs = {key: _clean(values.get(key)) for key in ACCOUNT_FIELDS}
    kwargs["cloud"] = (kwargs["cloud"] or "global").lower()
    kwargs["tenant_id"] = kwargs["tenant_id"] or ""
    kwargs["client_id"] = kwargs["client_id"] or ""
    return Account(name=name, **kwargs)


def load_accounts(app_dir, *, check_files=True):
    """Every account configured in <app_dir>/{default,local}/ta_entra_app_secrets_account.conf, by name."""
    stanzas = splunkd.read_conf(app_dir, ACCOUNT_CONF)
    accounts = {}
    for name, values in stanzas.items():
        accounts[name] = validate_account(account_from_stanza(name, values), check_files=check_files)
    return accounts


def load_account(app_dir, name, *, check_files=True):
    """One named account, validated alone: a broken stanza for another account does not stop this one."""
    stanzas = splunkd.read_conf(app_dir, ACCOUNT_CONF)
    if name not in stanzas:
        known = ", ".join(sorted(stanzas)) or "none"
        raise ConfigError(f"no account {name!r} in {app_dir}/local/{ACCOUNT_CONF}.conf (configured: {known})")
    return validate_account(account_from_stanza(name, stanzas[name]), check_files=check_files)


def account_from_cli(args, environ=None):
    """The account for a CLI run: --account NAME from the conf, or the tenant given by flags.

    Flags given next to --account override the stanza's values. Without a certificate the secret comes
    from $ENTRA_CLIENT_SECRET (never a flag: flags show up in process lists and shell history).
    """
    environ = os.environ if environ is None else environ
    overrides = {
        "tenant_id": getattr(args, "tenant_id", None),
        "client_id": getattr(args, "client_id", None),
        "certificate_path": getattr(args, "certificate", None),
        "authority_host": getattr(args, "authority_host", None),
        "graph_host": getattr(args, "graph_host", None),
        "ca_bundle": getattr(args, "ca_bundle", None),
        "proxy": getattr(args, "proxy", None),
    }
    overrides = {key: value for key, value in overrides.items() if value}
    cloud = getattr(args, "cloud", None)
    if getattr(args, "account", None):
        app_dir = getattr(args, "app_dir", None) or splunkd.default_app_dir(environ)
        if not app_dir:
            raise ConfigError("--account needs the app folder: pass --app-dir or set SPLUNK_HOME")
        account = load_account(app_dir, args.account, check_files=False)
        if cloud and cloud != "global":
            overrides["cloud"] = cloud
        account = dataclasses.replace(account, **overrides)
    else:
        missing = [flag for flag, key in (("--tenant-id", "tenant_id"), ("--client-id", "client_id"))
                   if key not in overrides]
        if missing:
            raise ConfigError(f"give {' and '.join(missing)} (or --account NAME for a configured account)")
        account = Account(name="cli", cloud=cloud or "global", **overrides)
    if not account.certificate_path:
        secret = environ.get(SECRET_ENV)
        if not secret:
            raise ConfigError(f"no credential: pass --certificate PEM (recommended) or set {SECRET_ENV}")
        account = account.with_secret(secret)
    return validate_account(account)


def find_account_for_tenant(accounts, tenant_id, prefer=None):
    """The account configured for a tenant (GUID or domain, any case); ConfigError when none or ambiguous.

    `prefer` names the account to use when several point at the same tenant (e.g. a read-only collector
    and a responder with write permissions).
    """
    candidates = list(accounts.values()) if isinstance(accounts, dict) else list(accounts)
    if prefer:
        for account in candidates:
            if account.name == prefer:
                if tenant_id and account.tenant_id.lower() != str(tenant_id).lower():
                    raise ConfigError(f"account {prefer!r} is for tenant {account.tenant_id}, not {tenant_id}")
                return account
        raise ConfigError(f"no account named {prefer!r} is configured")
    matches = [a for a in candidates if a.tenant_id.lower() == str(tenant_id or "").lower()]
    if not matches:
        raise ConfigError(f"no account is configured for tenant {tenant_id}; add one to "
                          f"local/{ACCOUNT_CONF}.conf")
    if len(matches) > 1:
        names = ", ".join(a.name for a in matches)
        raise ConfigError(f"several accounts are configured for tenant {tenant_id} ({names}); name the one to use")
    return matches[0]


# --- save-time validation of the Configuration page's fields ---------------------------------------------
# MINIMAL VERSION written on the ucc branch so the Accounts tab's save handler has something to call; the
# splunkd-config branch owns account_problems() and its version replaces this one on merge (same signature).
def account_problems(fields, *, now=None):
    """Every problem in an account's fields (the storage contract's names), each one sentence naming the
    field and the fix; [] when the account is usable. No field value is ever quoted: a secret pasted into
    the wrong field must not come back in an error."""
    import datetime

    now = now or datetime.datetime.now(datetime.timezone.utc)
    value = {key: (fields.get(key) or "").strip() for key in (
        "tenant_id", "client_id", "cloud", "credential_type", "certificate", "client_secret", "certificate_path",
        "authority_host", "graph_host", "ca_bundle", "proxy_url", "proxy_port")}
    problems = []
    if not (_GUID.match(value["tenant_id"]) or _DOMAIN.match(value["tenant_id"])):
        problems.append("tenant_id must be the directory (tenant) ID GUID or a verified domain such as "
                        "contoso.onmicrosoft.com.")
    if not _GUID.match(value["client_id"]):
        problems.append("client_id must be the application (client) ID GUID of the app registration.")
    if (value["cloud"] or "global") not in CLOUDS:
        problems.append(f"cloud must be one of {', '.join(CLOUDS)}.")
    for name in ("authority_host", "graph_host"):
        parts = urlsplit(value[name]) if value[name] else None
        if parts is not None and (parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/")
                                  or parts.query):
            problems.append(f"{name} must be an https URL with a host only, such as https://login.example.net.")
    credential_type = value["credential_type"] or ("certificate" if value["certificate_path"] else "client_secret")
    if credential_type == "certificate":
        if value["certificate"]:
            problems.extend(_pem_credential_problems(value["certificate"].encode(), "certificate", now))
        elif value["certificate_path"]:
            if not _readable(value["certificate_path"]):
                problems.append("certificate_path is not a readable file on this Splunk instance; paste the PEM "
                                "into certificate instead.")
        else:
            problems.append("certificate is empty: paste the PEM private key and the PEM certificate registered "
                            "on the app.")
    elif credential_type == "client_secret":
        if not value["client_secret"]:
            problems.append("client_secret is empty: paste the client secret's value (not its id).")
    else:
        problems.append("credential_type must be certificate or client_secret.")
    if value["ca_bundle"]:
        problems.extend(_ca_bundle_problems(value["ca_bundle"]))
    if value["proxy_url"] and not (value["proxy_port"].isdigit() and 1 <= int(value["proxy_port"]) <= 65535):
        problems.append("proxy_port must be a port number from 1 to 65535 when proxy_url is set.")
    return problems


def _pem_credential_problems(data, name, now):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key_block, cert_block = _pem_block(data, b"PRIVATE KEY"), _pem_block(data, b"CERTIFICATE")
    if key_block is None and cert_block is None:
        return [f"{name} is not PEM text: paste the -----BEGIN PRIVATE KEY----- and -----BEGIN CERTIFICATE----- blocks."]
    if key_block is None:
        return [f"{name} has no private key: paste the PEM private key together with the certificate."]
    if cert_block is None:
        return [f"{name} has no certificate: paste the PEM certificate registered on the app after the private key."]
    try:
        key = serialization.load_pem_private_key(key_block, password=None)
    except TypeError:
        return [f"{name} holds an encrypted private key: paste it unencrypted (openssl pkey -in key.pem)."]
    except ValueError:
        return [f"{name} holds a private key that is not valid PEM."]
    try:
        cert = x509.load_pem_x509_certificate(cert_block)
    except ValueError:
        return [f"{name} holds a certificate that is not valid PEM."]
    if not isinstance(key, rsa.RSAPrivateKey):
        return [f"{name} holds a private key that is not RSA; Entra ID app certificates must be RSA."]
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        return [f"{name} holds a private key that does not belong to its certificate."]
    if cert.not_valid_after_utc < now:
        return [f"{name} expired on {cert.not_valid_after_utc.date().isoformat()}: upload a new certificate to the "
                f"app and paste it here."]
    if cert.not_valid_before_utc > now:
        return [f"{name} is not valid before {cert.not_valid_before_utc.date().isoformat()}."]
    return []


def _ca_bundle_problems(text):
    from cryptography import x509

    if not text.startswith("-----BEGIN"):
        return [] if _readable(text) else ["ca_bundle is neither PEM text nor a readable file on this Splunk "
                                           "instance; paste the CA certificates as PEM."]
    try:
        if not x509.load_pem_x509_certificates(text.encode()):
            raise ValueError
    except ValueError:
        return ["ca_bundle is not valid PEM: paste one or more -----BEGIN CERTIFICATE----- blocks."]
    return []
