"""The only adapter to Splunk: where the app lives, its .conf files, storage/passwords.

Log paths under $SPLUNK_HOME are connector.logs.splunk_log_path.

Everything else in connector/ is plain Python that runs the same with or without splunkd.
"""
import os
import re
import tempfile

from connector import APP_ID
from connector.errors import ConfigError

PASSWORD_REALM = APP_ID


def app_dir_from_script(script_path):
    """The app folder a bin/ script belongs to (bin/../)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(script_path)))


def default_app_dir(environ=None):
    """$SPLUNK_HOME/etc/apps/TA-entra-app-secrets, or None when SPLUNK_HOME is not set."""
    environ = os.environ if environ is None else environ
    splunk_home = environ.get("SPLUNK_HOME")
    return os.path.join(splunk_home, "etc", "apps", APP_ID) if splunk_home else None


def parse_conf_text(text):
    """Parse Splunk .conf text into {stanza: {key: value}}.

    Splunk's rules, not configparser's: keys before any stanza belong to [default], a line ending in a
    backslash continues on the next line, '#' starts a comment only at the start of a line, keys keep
    their case, and a repeated stanza merges into the first.
    """
    stanzas = {}
    current = stanzas.setdefault("default", {})
    pending = ""
    for raw_line in text.splitlines():
        line = pending + raw_line
        if line.endswith("\\"):
            pending = line[:-1] + "\n"
            continue
        pending = ""
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stanzas.setdefault(stripped[1:-1].strip(), {})
            continue
        key, sep, value = stripped.partition("=")
        if sep:
            current[key.strip()] = value.strip()
    return stanzas


def read_conf(app_dir, conf_name):
    """Read <conf_name>.conf from the app's default/ then local/, layered as splunkd layers them.

    Returns {stanza: {key: value}}: local values win key by key, and [default] keys fill every stanza
    that does not set them. The [default] stanza itself is not returned.
    """
    layered = {}
    for layer in ("default", "local"):
        path = os.path.join(app_dir, layer, f"{conf_name}.conf")
        if not os.path.isfile(path):
            continue
        try:
            with open(path, encoding="utf-8-sig") as handle:
                parsed = parse_conf_text(handle.read())
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
        for stanza, values in parsed.items():
            layered.setdefault(stanza, {}).update(values)
    defaults = layered.pop("default", {})
    return {stanza: {**defaults, **values} for stanza, values in layered.items()}


def connect(server_uri, session_key):
    """A splunklib Service for the splunkd that started us (server_uri and session_key from its payload)."""
    from urllib.parse import urlsplit

    import splunklib.client

    parts = urlsplit(server_uri)
    return splunklib.client.connect(scheme=parts.scheme or "https", host=parts.hostname, port=parts.port or 8089,
                                    token=session_key, app=APP_ID, owner="nobody", autologin=False)


def read_account_secret(service, account_name):
    """The client secret kept for an account in storage/passwords (realm TA-entra-app-secrets), or None."""
    passwords = service.storage_passwords
    try:
        entity = passwords[f"{PASSWORD_REALM}:{account_name}:"]
        return entity.clear_password
    except KeyError:
        pass
    # The entity name form is splunkd's REST naming; matching on the fields works whatever the naming.
    for entity in passwords.list():
        if entity.realm == PASSWORD_REALM and entity.username == account_name:
            return entity.clear_password
    return None


def store_account_secret(service, account_name, secret):
    """Keep (or replace) an account's client secret in storage/passwords, where splunkd encrypts it."""
    passwords = service.storage_passwords
    try:
        passwords.delete(account_name, PASSWORD_REALM)
    except KeyError:
        pass  # nothing stored yet
    passwords.create(secret, account_name, PASSWORD_REALM)


MASKED_SECRET = "********"
_SECRET_LINE = re.compile(r"^(?P<indent>\s*)client_secret\s*=\s*(?P<value>.*?)\s*$")
_STANZA_LINE = re.compile(r"^\s*\[(?P<name>[^\]]*)\]\s*$")


def migrate_plaintext_secrets(service, app_dir, conf_name="ta_entra_app_secrets_account"):
    """Move any client_secret an admin typed into local/<conf>.conf to storage/passwords and mask it there.

    Returns the names of the accounts whose secret moved. The file is rewritten atomically, keeping
    every other line (comments included) as it was.
    """
    path = os.path.join(app_dir, "local", f"{conf_name}.conf")
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8-sig") as handle:
        lines = handle.read().splitlines(keepends=True)
    stanza, moved = "default", []
    for index, line in enumerate(lines):
        stanza_match = _STANZA_LINE.match(line)
        if stanza_match:
            stanza = stanza_match.group("name").strip()
            continue
        secret_match = _SECRET_LINE.match(line)
        if not secret_match or secret_match.group("value") in ("", MASKED_SECRET) or stanza == "default":
            continue
        store_account_secret(service, stanza, secret_match.group("value"))
        newline = "\n" if line.endswith("\n") else ""
        lines[index] = f"{secret_match.group('indent')}client_secret = {MASKED_SECRET}{newline}"
        moved.append(stanza)
    if moved:
        _replace_file(path, "".join(lines))
    return moved


def _replace_file(path, text):
    folder = os.path.dirname(path)
    handle, staging = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".conf")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as staged:
            staged.write(text)
        os.chmod(staging, os.stat(path).st_mode & 0o777)
        os.replace(staging, path)
    except BaseException:
        if os.path.exists(staging):
            os.unlink(staging)
        raise


def secret_for_account(server_uri, session_key, account_name, *, service=None):
    """Fetch an account's secret from splunkd; ConfigError that says what to do when there is none."""
    from splunklib.binding import HTTPError

    try:
        service = service or connect(server_uri, session_key)
        secret = read_account_secret(service, account_name)
    except HTTPError as exc:
        raise ConfigError(f"splunkd refused to read storage/passwords for account {account_name!r} "
                          f"(HTTP {exc.status}); the role running the add-on needs the list_storage_passwords "
                          f"capability") from None
    if not secret:
        raise ConfigError(
            f"account {account_name!r} has no certificate_path and no client secret in storage/passwords "
            f"(realm {PASSWORD_REALM}, username {account_name}); set certificate_path in "
            f"local/ta_entra_app_secrets_account.conf or store the secret from the add-on's setup page")
    return secret
