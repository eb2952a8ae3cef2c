"""Accounts: which tenant to read, how to sign in, and how to reach Microsoft's hosts.

Pure: no splunkd and no files here except the ones an account names. An account is one stanza of
ta_entra_app_secrets_account.conf (served by splunkd's REST API to the modular input and the alert
actions: connector/splunk/settings.py) or the CLI's flags and conf file (connector/conf_files.py); its
fields become a frozen `Account` through `account_from_fields`. `account_problems` says, one sentence per
field, what is wrong and how to fix it; it is what the Configuration page's save, `--validate-arguments`,
the health event and the CLI all report. Secret fields (`client_secret`, `certificate`, `proxy_password`)
come from storage/passwords (or, for the CLI, $ENTRA_CLIENT_SECRET) and are never quoted back.
"""
import dataclasses
import datetime
import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import quote, urlsplit, urlunsplit

from connector.errors import ConfigError

ACCOUNT_CONF = "ta_entra_app_secrets_account"
SECRET_ENV = "ENTRA_CLIENT_SECRET"
CERTIFICATE, CLIENT_SECRET = "certificate", "client_secret"
CREDENTIAL_TYPES = (CERTIFICATE, CLIENT_SECRET)
# Non-secret account fields, as the conf stanza holds them (storage contract, docs/ARCHITECTURE.md "Settings").
ACCOUNT_FIELDS = ("tenant_id", "client_id", "cloud", "credential_type", "certificate_path", "authority_host",
                  "graph_host", "ca_bundle", "proxy_url", "proxy_port", "proxy_username", "proxy")
# Encrypted account fields: storage/passwords holds them, the conf shows solnlib's placeholder.
ENCRYPTED_ACCOUNT_FIELDS = ("client_secret", "certificate", "proxy_password")
ENCRYPTED_PLACEHOLDERS = ("******", "********")  # solnlib's, and the one this add-on wrote before


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
_PEM_BEGIN = "-----BEGIN "


def is_pem_text(value):
    """True when a field holds PEM text (pasted or uploaded) rather than a file path."""
    return bool(value) and _PEM_BEGIN in value


@dataclass(frozen=True)
class Account:
    name: str
    tenant_id: str
    client_id: str
    cloud: str = "global"
    authority_host: Optional[str] = None
    graph_host: Optional[str] = None
    # PEM text (pasted or uploaded in Splunk Web) or, on a heavy forwarder, a path
    ca_bundle: Optional[str] = None
    certificate_path: Optional[str] = None
    # the proxy URL without credentials (the account's override, or the add-on's [proxy] settings)
    proxy: Optional[str] = None
    credential_type: Optional[str] = None
    proxy_username: Optional[str] = None
    client_secret: Optional[str] = field(default=None, repr=False, compare=False)
    # PEM text of the private key and its certificate, from storage/passwords
    certificate_pem: Optional[str] = field(default=None, repr=False, compare=False)
    proxy_password: Optional[str] = field(default=None, repr=False, compare=False)

    @property
    def auth_method(self):
        """certificate or secret: credential_type when set; a certificate (text or file) wins otherwise."""
        if self.credential_type in CREDENTIAL_TYPES:
            return "certificate" if self.credential_type == CERTIFICATE else "secret"
        return "certificate" if (self.certificate_pem or self.certificate_path) else "secret"

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
    def ca_pem(self):
        """The CA bundle when it is PEM text (trusted from memory: connector.graph.auth), else None."""
        return self.ca_bundle if is_pem_text(self.ca_bundle) else None

    @property
    def verify(self):
        """What requests' verify= gets: the CA bundle's path, or True (default trust store, or the PEM text
        the session's TLS context already trusts)."""
        if self.ca_bundle and not self.ca_pem:
            return self.ca_bundle
        return True

    @property
    def proxies(self):
        if not self.proxy:
            return {}
        url = self.proxy
        if self.proxy_username:
            parts = urlsplit(url)
            credentials = quote(self.proxy_username, safe="")
            if self.proxy_password:
                credentials += ":" + quote(self.proxy_password, safe="")
            url = urlunsplit((parts.scheme, f"{credentials}@{parts.netloc}", parts.path, "", ""))
        return {"http": url, "https": url}

    def with_secret(self, secret):
        return dataclasses.replace(self, client_secret=secret)


# --- fields -> Account ----------------------------------------------------------------------------------
def _clean(value):
    value = ("" if value is None else str(value)).strip()
    return value or None


def _secret_value(value):
    """A secret field's value, or None when absent or still solnlib's placeholder."""
    value = _clean(value)
    return None if value in ENCRYPTED_PLACEHOLDERS else value


def proxy_url(scheme_host, port=None, default_scheme="http"):
    """http://host:port from UCC's separate proxy_url (a host or URL) and proxy_port fields."""
    host = _clean(scheme_host)
    if not host:
        return None
    if "://" not in host:
        host = f"{default_scheme}://{host}"
    port = _clean(port)
    parts = urlsplit(host)
    if port and not parts.port:
        host = urlunsplit((parts.scheme, f"{parts.netloc}:{port}", parts.path, "", ""))
    return host.rstrip("/")


def account_from_fields(name, fields, *, proxy=None):
    """An Account from a stanza's fields (secret fields filled in, or not); unknown keys are ignored.

    `proxy` is the add-on's [proxy] settings as `proxy_settings` returns them ({"url", "username",
    "password"} or None); an account's own proxy_url (or the legacy `proxy` URL) overrides it.
    """
    values = {key: _clean(fields.get(key)) for key in ACCOUNT_FIELDS}
    own_proxy = proxy_url(values["proxy_url"], values["proxy_port"]) or values["proxy"]
    if own_proxy:
        proxy_fields = {"url": own_proxy, "username": values["proxy_username"],
                        "password": _secret_value(fields.get("proxy_password"))}
    else:
        proxy_fields = proxy or {}
    credential_type = (values["credential_type"] or "").lower() or None
    return Account(
        name=name, tenant_id=values["tenant_id"] or "", client_id=values["client_id"] or "",
        cloud=(values["cloud"] or "global").lower(), authority_host=values["authority_host"],
        graph_host=values["graph_host"], ca_bundle=values["ca_bundle"], certificate_path=values["certificate_path"],
        proxy=proxy_fields.get("url"), proxy_username=proxy_fields.get("username"),
        proxy_password=proxy_fields.get("password"), credential_type=credential_type,
        client_secret=_secret_value(fields.get("client_secret")),
        certificate_pem=_secret_value(fields.get("certificate")))


def account_fields(account):
    """The fields an Account came from (secret fields included): what `account_problems` checks."""
    fields = {key: getattr(account, key, None) for key in ACCOUNT_FIELDS if key not in ("proxy_url", "proxy_port")}
    fields.update(client_secret=account.client_secret, certificate=account.certificate_pem,
                  proxy_password=account.proxy_password)
    return {key: value for key, value in fields.items() if value not in (None, "")}


# --- certificates ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CertificateMaterial:
    """A PEM credential read and checked: what MSAL needs, and the thumbprint an admin compares."""
    private_key_pem: str = field(repr=False)
    certificate_pem: str
    sha256_thumbprint: str
    sha1_thumbprint: str
    not_after: str
    not_before: str = ""


def read_certificate(path):
    """Read a PEM file holding an unencrypted RSA private key and its certificate; ConfigError otherwise."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConfigError(f"certificate_path {path!r} cannot be read ({exc.strerror}); check the path and that "
                          f"the user running Splunk may read it") from None
    return certificate_from_pem(data, label=f"certificate_path {path!r}")


def certificate_from_pem(data, *, label="certificate"):
    """Check PEM text (bytes or str) holding an RSA private key and its certificate; CertificateMaterial.

    The messages start with `label` (the field, or the field and its path), never any of the PEM's content.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    data = data.encode("ascii", "replace") if isinstance(data, str) else data
    key_block = _pem_block(data, b"PRIVATE KEY")
    cert_block = _pem_block(data, b"CERTIFICATE")
    if key_block is None and cert_block is None:
        raise ConfigError(f"{label} is not PEM text; it must hold the PEM private key and the PEM certificate "
                          f"registered on the app, each a block starting with -----BEGIN")
    if key_block is None or cert_block is None:
        missing = "private key" if key_block is None else "certificate"
        raise ConfigError(f"{label} is missing the {missing}; it must hold both the PEM private key and the PEM "
                          f"certificate registered on the app")
    try:
        key = serialization.load_pem_private_key(key_block, password=None)
    except TypeError:
        raise ConfigError(f"the private key in {label} is encrypted; give it unencrypted (Splunk encrypts the "
                          f"field itself)") from None
    except ValueError:
        raise ConfigError(f"the private key in {label} is not a valid PEM key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"the private key in {label} is not RSA; Entra ID app certificates must be RSA")
    try:
        cert = x509.load_pem_x509_certificate(cert_block)
    except ValueError:
        raise ConfigError(f"the certificate in {label} is not a valid PEM certificate") from None
    if cert.public_key().public_numbers() != key.public_key().public_numbers():
        raise ConfigError(f"the private key in {label} does not belong to its certificate")
    der = cert.public_bytes(serialization.Encoding.DER)
    return CertificateMaterial(
        private_key_pem=key_block.decode("ascii"),
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        sha256_thumbprint=hashlib.sha256(der).hexdigest().upper(),
        sha1_thumbprint=cert.fingerprint(hashes.SHA1()).hex().upper(),
        not_after=cert.not_valid_after_utc.isoformat(),
        not_before=cert.not_valid_before_utc.isoformat(),
    )


def account_certificate(account):
    """The account's certificate material: the PEM text from storage/passwords, else its certificate_path."""
    if account.certificate_pem:
        return certificate_from_pem(account.certificate_pem)
    if account.certificate_path:
        return read_certificate(account.certificate_path)
    raise ConfigError(f"account {account.name!r} uses a certificate but has none: paste or upload the PEM "
                      f"private key and certificate in its certificate field")


def _pem_block(data, label_suffix):
    """The first PEM block whose label ends with label_suffix (PRIVATE KEY covers RSA PRIVATE KEY too)."""
    match = re.search(rb"-----BEGIN ([A-Z ]*" + label_suffix + rb")-----.+?-----END \1-----", data, re.S)
    return match.group(0) if match else None


def _validity_problem(material, label, now):
    not_before = datetime.datetime.fromisoformat(material.not_before) if material.not_before else None
    not_after = datetime.datetime.fromisoformat(material.not_after)
    if now > not_after:
        return (f"{label} expired on {not_after.date().isoformat()}; register a new certificate on the app and "
                f"store it here")
    if not_before and now < not_before:
        return f"{label} is not valid before {not_before.date().isoformat()}; use a certificate that is valid now"
    return None


# --- checks ---------------------------------------------------------------------------------------------
def _https_host_problem(name, value):
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        return f"{name} {value!r} must be an https URL such as https://login.example.net"
    if parts.path not in ("", "/") or parts.query:
        return f"{name} {value!r} must be a host only (no path or query)"
    return None


def _identity_problems(fields):
    problems = []
    tenant = _clean(fields.get("tenant_id")) or ""
    if not (_GUID.match(tenant) or _DOMAIN.match(tenant)):
        problems.append(f"tenant_id {tenant!r} must be the directory (tenant) ID GUID or a verified domain "
                        f"such as contoso.onmicrosoft.com")
    client = _clean(fields.get("client_id")) or ""
    if not _GUID.match(client):
        problems.append(f"client_id {client!r} must be the application (client) ID GUID")
    cloud = (_clean(fields.get("cloud")) or "global").lower()
    if cloud not in CLOUDS:
        problems.append(f"cloud {cloud!r} must be one of {', '.join(CLOUDS)}")
    credential_type = _clean(fields.get("credential_type"))
    if credential_type and credential_type.lower() not in CREDENTIAL_TYPES:
        problems.append(f"credential_type {credential_type!r} must be certificate or client_secret")
    for name in ("authority_host", "graph_host"):
        value = _clean(fields.get(name))
        problem = value and _https_host_problem(name, value)
        if problem:
            problems.append(problem)
    return problems


def _proxy_problems(fields):
    problems = []
    legacy = _clean(fields.get("proxy"))
    if legacy:
        parts = urlsplit(legacy)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(f"proxy {legacy!r} must be a URL such as http://proxy.example.net:8080")
    port = _clean(fields.get("proxy_port"))
    if port and not (port.isdigit() and 1 <= int(port) <= 65535):
        problems.append(f"proxy_port {port!r} must be a port number from 1 to 65535")
    url = _clean(fields.get("proxy_url"))
    if url:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(f"proxy_url {url!r} must be a host such as proxy.example.net")
    return problems


def _credential_problems(fields, now, check_files):
    problems = []
    pem = _secret_value(fields.get("certificate"))
    path = _clean(fields.get("certificate_path"))
    secret = _secret_value(fields.get("client_secret"))
    kind = (_clean(fields.get("credential_type")) or "").lower()
    material = None
    try:
        if pem:
            material = certificate_from_pem(pem)
        elif path and check_files:
            material = read_certificate(path)
    except ConfigError as exc:
        problems.append(str(exc))
    if material is not None:
        problem = _validity_problem(material, "certificate" if pem else f"certificate_path {path!r}", now)
        if problem:
            problems.append(problem)
    if kind == CERTIFICATE and not (pem or path):
        problems.append("certificate is empty but credential_type is certificate; paste or upload the PEM "
                        "private key and certificate")
    elif kind == CLIENT_SECRET and not secret and check_files:  # (the CLI's conf has none: $ENTRA_CLIENT_SECRET)
        problems.append("client_secret is empty but credential_type is client_secret; enter the app's client "
                        "secret")
    return problems


def _ca_bundle_problems(fields, check_files):
    bundle = _clean(fields.get("ca_bundle"))
    if not bundle:
        return []
    if is_pem_text(bundle):
        from cryptography import x509

        try:
            x509.load_pem_x509_certificates(bundle.encode("ascii", "replace"))
        except ValueError:
            return ["ca_bundle does not hold a valid PEM certificate; paste the CA certificate(s) that sign the "
                    "authority and Graph hosts' certificates, or give a file path"]
        return []
    if check_files and not (os.path.isfile(bundle) and os.access(bundle, os.R_OK)):
        return [f"ca_bundle {bundle!r} is not a readable file; paste the CA certificate as PEM text instead, or "
                f"fix the path"]
    return []


def account_problems(fields, *, now=None, check_files=True):
    """Every problem in an account's fields, one sentence each that names the field and the fix.

    `fields` are a stanza's values (secret fields clear, absent, or solnlib's placeholder). `now`
    (an aware datetime) is when a certificate must be valid; `check_files=False` skips what only the
    node that runs the input can check (a certificate_path or ca_bundle path). No secret is quoted.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return (_identity_problems(fields) + _proxy_problems(fields) + _credential_problems(fields, now, check_files)
            + _ca_bundle_problems(fields, check_files))


def validate_account(account, *, check_files=True, now=None):
    """Raise ConfigError listing every problem in the account, each with what to fix; else the account."""
    problems = account_problems(account_fields(account), now=now, check_files=check_files)
    if problems:
        raise ConfigError(f"account {account.name!r}: " + "; ".join(problems))
    return account


# --- the CLI: flags, or a stanza of a conf file it is pointed at -------------------------------------------
def account_from_stanza(name, values):
    """Build an Account from a conf file's key/values; a client_secret typed into the file is refused."""
    if _secret_value(values.get("client_secret")) or _secret_value(values.get("certificate")):
        raise ConfigError(f"account {name!r}: a client secret or certificate must not be kept in a .conf file; "
                          f"set it in Splunk Web (Configuration > Accounts) or, for the CLI, use --certificate "
                          f"or ${SECRET_ENV}")
    return account_from_fields(name, values)


def load_accounts(app_dir, *, check_files=True):
    """Every account in <app_dir>/{default,local}/ta_entra_app_secrets_account.conf, by name (CLI only)."""
    from connector import conf_files

    stanzas = conf_files.read_conf(app_dir, ACCOUNT_CONF)
    return {name: validate_account(account_from_stanza(name, values), check_files=check_files)
            for name, values in stanzas.items()}


def load_account(app_dir, name, *, check_files=True):
    """One named account, validated alone: a broken stanza for another account does not stop this one."""
    from connector import conf_files

    stanzas = conf_files.read_conf(app_dir, ACCOUNT_CONF)
    if name not in stanzas:
        known = ", ".join(sorted(stanzas)) or "none"
        raise ConfigError(f"no account {name!r} in {app_dir}/local/{ACCOUNT_CONF}.conf (configured: {known})")
    return validate_account(account_from_stanza(name, stanzas[name]), check_files=check_files)


def account_from_cli(args, environ=None):
    """The account for a CLI run: --account NAME from the conf, or the tenant given by flags.

    Flags given next to --account override the stanza's values. Without a certificate the secret comes
    from $ENTRA_CLIENT_SECRET (never a flag: flags show up in process lists and shell history).
    """
    from connector import conf_files

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
        app_dir = getattr(args, "app_dir", None) or conf_files.default_app_dir(environ)
        if not app_dir:
            raise ConfigError("--account needs the app folder: pass --app-dir or set SPLUNK_HOME")
        account = load_account(app_dir, args.account, check_files=False)
        if cloud and cloud != "global":
            overrides["cloud"] = cloud
        if "certificate_path" in overrides:
            overrides["credential_type"] = CERTIFICATE
        account = dataclasses.replace(account, **overrides)
    else:
        missing = [flag for flag, key in (("--tenant-id", "tenant_id"), ("--client-id", "client_id"))
                   if key not in overrides]
        if missing:
            raise ConfigError(f"give {' and '.join(missing)} (or --account NAME for a configured account)")
        account = Account(name="cli", cloud=cloud or "global", **overrides)
    if account.auth_method == "secret":
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
        raise ConfigError(f"no account is configured for tenant {tenant_id}; add one in Splunk Web "
                          f"(Configuration > Accounts)")
    if len(matches) > 1:
        names = ", ".join(a.name for a in matches)
        raise ConfigError(f"several accounts are configured for tenant {tenant_id} ({names}); name the one to use")
    return matches[0]
