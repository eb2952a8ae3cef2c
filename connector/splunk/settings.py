"""Accounts and settings as splunkd serves them: conf stanzas through its REST API, encrypted fields from
storage/passwords, read with the session key splunkd hands the modular input and the alert actions.

Nothing here reads a file: the add-on must work on a node without local/ (Splunk Cloud, a search head
cluster member, a heavy forwarder configured from Splunk Web). The storage contract (docs/ARCHITECTURE.md,
"Settings") is UCC's: one stanza per account in ta_entra_app_secrets_account.conf showing solnlib's
`******` for each encrypted field, and one storage/passwords credential per stanza in realm
`__REST_CREDENTIAL__#TA-entra-app-secrets#configs/conf-ta_entra_app_secrets_account` whose clear
password is the JSON object of the stanza's encrypted fields, chunked the way solnlib's
CredentialManager chunks it. solnlib does the reading, chunking and writing; this module maps its answers
to `Account`s and migrates what earlier releases stored:

- a secret in the old realm `TA-entra-app-secrets` (username = account name, conf showing `********` or
  nothing), and
- a client_secret typed into the conf in clear text

are used as they are, and moved into the UCC realm (the conf then shows `******`) as soon as the
session key may write; until then the run goes on with a warning. Nothing needs retyping.
"""
import json
from urllib.parse import urlsplit

from connector import APP_ID
from connector.config import (ACCOUNT_CONF, CERTIFICATE, ENCRYPTED_ACCOUNT_FIELDS, ENCRYPTED_PLACEHOLDERS,
                              account_from_fields, proxy_url)
from connector.errors import ConfigError
from connector.logs import get_logger
from connector.splunk.splunkd import SPLUNKD_TIMEOUT_S, splunkd_errors

SETTINGS_CONF = "ta_entra_app_secrets_settings"
ACCOUNT_REALM = f"__REST_CREDENTIAL__#{APP_ID}#configs/conf-{ACCOUNT_CONF}"
SETTINGS_REALM = f"__REST_CREDENTIAL__#{APP_ID}#configs/conf-{SETTINGS_CONF}"
LEGACY_REALM = APP_ID            # where releases before the Configuration page kept a client secret
PLACEHOLDER = "******"           # solnlib's ConfFile.ENCRYPTED_TOKEN
LEGACY_PLACEHOLDER = "********"  # what move_typed_in_secrets left in the conf
SETTINGS_ENCRYPTED_FIELDS = {"proxy": ("proxy_password",)}
PROXY_TYPES = ("http", "https")
_TRUE = {"1", "true", "yes", "on", "t", "y"}
# splunklib's entity metadata, not settings
_META_PREFIX = "eai:"
_META_KEYS = {"disabled"}

log = get_logger("connector.splunk.settings")


class Splunkd:
    """One splunkd, one session key: solnlib's clients for it, made on first use and kept for the run."""

    def __init__(self, server_uri, session_key):
        if not server_uri or not session_key:
            raise ConfigError("no server_uri and session_key from splunkd: accounts and settings are read through "
                              "splunkd's REST API, so this script must be started by splunkd")
        parts = urlsplit(server_uri)
        self.server_uri = server_uri
        self.session_key = session_key
        self._where = dict(scheme=parts.scheme or "https", host=parts.hostname, port=parts.port or 8089)
        self._rest = None
        self._credentials = {}

    def rest(self):
        from solnlib.splunk_rest_client import SplunkRestClient

        if self._rest is None:
            self._rest = _with_timeout(SplunkRestClient(self.session_key, APP_ID, owner="nobody", **self._where))
        return self._rest

    def credentials(self, realm):
        from solnlib.credentials import CredentialManager

        if realm not in self._credentials:
            manager = CredentialManager(self.session_key, APP_ID, owner="nobody", realm=realm, **self._where)
            _with_timeout(manager.service)
            self._credentials[realm] = manager
        return self._credentials[realm]

    def conf_file(self, name, realm):
        """solnlib's ConfFile, which writes a stanza's encrypted fields exactly as UCC's handlers do."""
        from solnlib.conf_manager import ConfManager
        from solnlib.soln_exceptions import ConfManagerException

        manager = ConfManager(self.session_key, APP_ID, owner="nobody", realm=realm, **self._where)
        _with_timeout(manager._rest_client)
        try:
            return manager.get_conf(name)
        except ConfManagerException:  # the file exists in no layer yet
            return manager.create_conf(name)

    def stanzas(self, conf_name):
        """{stanza: {key: value}} as splunkd layers them, [default] and entity metadata left out."""
        confs = self.rest().confs
        try:
            conf = confs[conf_name]
        except KeyError:  # properties/<file> answered 404: no layer has the file
            return {}
        result = {}
        for stanza in conf.list(count=-1):
            if stanza.name == "default":
                continue
            result[stanza.name] = {key: value for key, value in stanza.content.items()
                                   if not key.startswith(_META_PREFIX) and key not in _META_KEYS}
        return result

    def password(self, realm, username):
        """The clear password stored for realm/username (chunks joined by solnlib), or None."""
        from solnlib.credentials import CredentialNotExistException

        try:
            return self.credentials(realm).get_password(username)
        except CredentialNotExistException:
            return None


def _with_timeout(service):
    """solnlib's request handler passes no timeout to requests: a hung splunkd would hang the run with it."""
    send = service.http.handler
    service.http.handler = lambda url, message, **kwargs: send(url, message, **{"timeout": SPLUNKD_TIMEOUT_S,
                                                                              **kwargs})
    return service


# --- accounts --------------------------------------------------------------------------------------------
def read_accounts(server_uri, session_key, *, splunkd=None, migrate=True):
    """Every configured account by name, secret fields filled in (and migrated when possible)."""
    splunkd = splunkd or Splunkd(server_uri, session_key)
    with splunkd_errors(splunkd.server_uri, f"reading the accounts ({ACCOUNT_CONF}.conf)", "admin_all_objects"):
        stanzas = splunkd.stanzas(ACCOUNT_CONF)
        proxy = _proxy_from_stanza(splunkd, _settings_stanza(splunkd, "proxy"))
        return {name: account_from_fields(name, _clear_fields(splunkd, name, fields, migrate), proxy=proxy)
                for name, fields in stanzas.items()}


def read_account(server_uri, session_key, name, *, splunkd=None, migrate=True):
    """One named account; ConfigError naming the configured ones when there is no such stanza."""
    splunkd = splunkd or Splunkd(server_uri, session_key)
    with splunkd_errors(splunkd.server_uri, f"reading account {name!r} ({ACCOUNT_CONF}.conf)", "admin_all_objects"):
        stanzas = splunkd.stanzas(ACCOUNT_CONF)
        if name not in stanzas:
            known = ", ".join(sorted(stanzas)) or "none configured yet"
            raise ConfigError(f"account {name!r} does not exist: add it in Splunk Web (Configuration > Accounts) "
                              f"or name one of: {known}")
        proxy = _proxy_from_stanza(splunkd, _settings_stanza(splunkd, "proxy"))
        return account_from_fields(name, _clear_fields(splunkd, name, stanzas[name], migrate), proxy=proxy)


def account_stanza(server_uri, session_key, name, *, splunkd=None):
    """An account's fields as configured, without touching storage/passwords (for naming it in an event)."""
    splunkd = splunkd or Splunkd(server_uri, session_key)
    with splunkd_errors(splunkd.server_uri, f"reading account {name!r} ({ACCOUNT_CONF}.conf)", "admin_all_objects"):
        return splunkd.stanzas(ACCOUNT_CONF).get(name)


def account_stanzas(splunkd):
    """Every account stanza as configured (encrypted fields still placeholders): no secret is read."""
    with splunkd_errors(splunkd.server_uri, f"reading the accounts ({ACCOUNT_CONF}.conf)", "admin_all_objects"):
        return splunkd.stanzas(ACCOUNT_CONF)


def _clear_fields(splunkd, name, fields, migrate):
    """The stanza's fields with every encrypted one in clear, wherever this or an earlier release kept it."""
    fields = dict(fields)
    placeholders = [key for key in ENCRYPTED_ACCOUNT_FIELDS if fields.get(key) == PLACEHOLDER]
    typed_in = {key: fields[key] for key in ENCRYPTED_ACCOUNT_FIELDS
                if (fields.get(key) or "").strip() and fields[key] not in ENCRYPTED_PLACEHOLDERS}
    stored = {}
    if placeholders:
        text = splunkd.password(ACCOUNT_REALM, name)
        stored = _json_object(text, name) if text else {}
        for key in placeholders:
            fields.pop(key)
    fields.update({key: value for key, value in stored.items() if key in ENCRYPTED_ACCOUNT_FIELDS})
    if fields.get("client_secret") == LEGACY_PLACEHOLDER:  # the secret is in the old realm
        fields.pop("client_secret")
    legacy = None
    if not fields.get("client_secret") and _may_have_legacy_secret(fields):
        legacy = splunkd.password(LEGACY_REALM, name)
        if legacy:
            fields["client_secret"] = legacy
    if migrate and (typed_in or legacy):
        # the log records which fields moved, by name only: never their values
        moved_fields = sorted(typed_in.keys()) + (["client_secret"] if legacy else [])
        _move_into_ucc_realm(splunkd, name, fields, moved=moved_fields, legacy=bool(legacy))
    return fields


def _may_have_legacy_secret(fields):
    """An account from before credential_type: a client secret unless it has a certificate."""
    kind = (fields.get("credential_type") or "").strip().lower()
    if kind == CERTIFICATE:
        return False
    return kind == "client_secret" or not (fields.get("certificate") or fields.get("certificate_path"))


def _json_object(text, name):
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        # never quote it: it is the secret material
        raise ConfigError(f"account {name!r}: its encrypted fields in storage/passwords (realm {ACCOUNT_REALM}) "
                          f"are not the JSON object UCC writes; save the account again in Splunk Web")
    return value


def _move_into_ucc_realm(splunkd, name, fields, *, moved, legacy):
    """Store the stanza's encrypted fields in the UCC realm (conf shows ******); drop the old copies.

    The same two steps as solnlib's ConfFile.update(name, fields, encrypt_keys): CredentialManager
    chunks the JSON into storage/passwords, then the conf gets the placeholders. Called without
    solnlib's retry decorators (`__wrapped__`): they retry every HTTPError, a 403 included, with
    sleeps nested three deep, so a read-only session key would hold the input for minutes.
    """
    from splunklib.binding import HTTPError

    encrypted = {key: fields[key] for key in ENCRYPTED_ACCOUNT_FIELDS if fields.get(key)}
    try:
        _unretried_set_password(splunkd.credentials(ACCOUNT_REALM), name, json.dumps(encrypted))
        conf = splunkd.conf_file(ACCOUNT_CONF, ACCOUNT_REALM)
        type(conf).update.__wrapped__(conf, name, {key: PLACEHOLDER for key in encrypted})
        if legacy:
            type(splunkd.credentials(LEGACY_REALM)).delete_password.__wrapped__(splunkd.credentials(LEGACY_REALM),
                                                                                name)
    except HTTPError as exc:
        if exc.status not in (401, 403):
            raise
        # read-only here: the secret keeps working from where it is; a run with write access moves it
        log.warning("account.secret_not_moved", account=name, fields=moved, status=exc.status,
                    fix="run the input or action as a role with admin_all_objects once, or save the account "
                        "again in Splunk Web")
        return
    log.info("account.secret_moved", account=name, fields=moved, realm=ACCOUNT_REALM,
             source=LEGACY_REALM if legacy else f"{ACCOUNT_CONF}.conf")


def _unretried_set_password(manager, user, password):
    """solnlib's CredentialManager.set_password (chunks of 255 characters and its end mark), one try."""
    manager_type = type(manager)
    update_once = manager_type._update_password.__wrapped__
    # set_password calls self._update_password per chunk: an instance attribute shadows the retried one
    manager._update_password = lambda chunk_user, chunk: update_once(manager, chunk_user, chunk)
    try:
        manager_type.set_password.__wrapped__(manager, user, password)
    finally:
        del manager._update_password


# --- settings --------------------------------------------------------------------------------------------
def read_settings(server_uri, session_key, stanza, *, splunkd=None):
    """One stanza of ta_entra_app_secrets_settings.conf ({} when absent), encrypted fields in clear."""
    splunkd = splunkd or Splunkd(server_uri, session_key)
    with splunkd_errors(splunkd.server_uri, f"reading [{stanza}] of {SETTINGS_CONF}.conf", "admin_all_objects"):
        return _settings_stanza(splunkd, stanza)


def _settings_stanza(splunkd, stanza):
    values = dict(splunkd.stanzas(SETTINGS_CONF).get(stanza) or {})
    encrypted = [key for key in SETTINGS_ENCRYPTED_FIELDS.get(stanza, ()) if values.get(key) == PLACEHOLDER]
    if encrypted:
        text = splunkd.password(SETTINGS_REALM, stanza)
        stored = _json_object(text, stanza) if text else {}
        for key in encrypted:
            values[key] = stored.get(key)
    return values


def proxy_settings(server_uri, session_key, *, splunkd=None):
    """The add-on's proxy ({"url", "username", "password"}) from [proxy], or None when it is off."""
    splunkd = splunkd or Splunkd(server_uri, session_key)
    return _proxy_from_stanza(splunkd, read_settings(server_uri, session_key, "proxy", splunkd=splunkd))


def _proxy_from_stanza(splunkd, values):
    if str(values.get("proxy_enabled") or "").strip().lower() not in _TRUE:
        return None
    kind = (values.get("proxy_type") or "http").strip().lower()
    if kind not in PROXY_TYPES:
        raise ConfigError(f"[proxy] proxy_type {kind!r} in {SETTINGS_CONF}.conf is not supported; use http "
                          f"(the add-on's Graph traffic goes through an HTTP CONNECT proxy)")
    url = proxy_url(values.get("proxy_url"), values.get("proxy_port"), default_scheme=kind)
    if not url:
        raise ConfigError(f"[proxy] proxy_enabled is on but proxy_url is empty in {SETTINGS_CONF}.conf; set the "
                          f"proxy host in Splunk Web (Configuration > Proxy) or turn the proxy off")
    return {"url": url, "username": (values.get("proxy_username") or "").strip() or None,
            "password": values.get("proxy_password") or None}


def log_level(server_uri, session_key, default="INFO", *, splunkd=None):
    """[logging] loglevel, read at the start of every run (a change applies at the next run, no restart)."""
    try:
        level = (read_settings(server_uri, session_key, "logging", splunkd=splunkd).get("loglevel") or "").strip()
    except ConfigError:
        return default
    return level.upper() or default
