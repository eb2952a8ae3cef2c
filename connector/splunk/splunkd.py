"""The only adapter to Splunk: where the app lives, its .conf files, storage/passwords.

Log paths under $SPLUNK_HOME are connector.logs.splunk_log_path.

Everything else in connector/ is plain Python that runs the same with or without splunkd.
"""
import contextlib
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


# splunklib waits forever by default; a hung splunkd must not hang every input run with it
SPLUNKD_TIMEOUT_S = 30
ACCOUNT_CONF_PATH = "local/ta_entra_app_secrets_account.conf"


def connect(server_uri, session_key):
    """A splunklib Service for the splunkd that started us (server_uri and session_key from its payload).

    No request is made here: the session key is splunkd's, so there is no login round trip.
    """
    from urllib.parse import urlsplit

    import splunklib.binding
    import splunklib.client

    if not server_uri or not session_key:
        raise ConfigError("no server_uri and session_key from splunkd: storage/passwords can only be read when "
                          "splunkd runs the add-on (or use a certificate account)")
    parts = urlsplit(server_uri)
    return splunklib.client.connect(scheme=parts.scheme or "https", host=parts.hostname, port=parts.port or 8089,
                                    token=session_key, app=APP_ID, owner="nobody", autologin=False,
                                    handler=splunklib.binding.handler(timeout=SPLUNKD_TIMEOUT_S))


@contextlib.contextmanager
def splunkd_errors(server_uri, doing, capability):
    """Turn what can go wrong talking to splunkd into one ConfigError that says what to fix.

    `doing` completes "... while <doing>"; `capability` is the one splunkd wants for it. Neither splunkd's
    answer body nor the request is quoted: they can hold the session key or the secret.
    """
    from splunklib.binding import HTTPError

    try:
        yield
    except HTTPError as exc:
        if exc.status == 401:
            raise ConfigError(f"splunkd at {server_uri} rejected the session key (HTTP 401) while {doing}; the "
                              f"session expired or the script was not started by splunkd: restart the input") from None
        if exc.status == 403:
            raise ConfigError(f"splunkd refused {doing} (HTTP 403); the role running the add-on needs the "
                              f"{capability} capability") from None
        raise ConfigError(f"splunkd at {server_uri} answered HTTP {exc.status} {exc.reason} while {doing}; "
                          f"see splunkd.log") from None
    except OSError as exc:  # refused, timed out, reset, TLS handshake
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise ConfigError(f"no answer from splunkd at {server_uri} while {doing} ({reason}); check that splunkd "
                          f"is running and its management port answers") from None


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
    from splunklib.binding import HTTPError

    passwords = service.storage_passwords
    for attempt in (1, 2):
        try:
            passwords.delete(account_name, PASSWORD_REALM)
        except KeyError:
            pass  # nothing stored yet
        try:
            passwords.create(secret, account_name, PASSWORD_REALM)
            return
        except HTTPError as exc:
            # 409: another input process stored it between our delete and create (after a restart
            # every input starts at once, each moving the same typed-in secret); once more wins
            if exc.status != 409 or attempt == 2:
                raise


MASKED_SECRET = "********"
_SECRET_LINE = re.compile(r"^(?P<indent>\s*)client_secret\s*=\s*(?P<value>.*?)\s*$")
_STANZA_LINE = re.compile(r"^\s*\[(?P<name>[^\]]*)\]\s*$")


def _typed_in_secrets(lines):
    """(line index, stanza, indent, value) of each client_secret an admin typed into an account stanza."""
    stanza = "default"
    for index, line in enumerate(lines):
        stanza_match = _STANZA_LINE.match(line)
        if stanza_match:
            stanza = stanza_match.group("name").strip()
            continue
        secret_match = _SECRET_LINE.match(line)
        if not secret_match or secret_match.group("value") in ("", MASKED_SECRET) or stanza == "default":
            continue
        yield index, stanza, secret_match.group("indent"), secret_match.group("value")


def _account_conf_lines(app_dir, conf_name):
    path = os.path.join(app_dir, "local", f"{conf_name}.conf")
    if not os.path.isfile(path):
        return path, None
    with open(path, encoding="utf-8-sig") as handle:
        return path, handle.read().splitlines(keepends=True)


def typed_in_secret_accounts(app_dir, conf_name="ta_entra_app_secrets_account"):
    """Names of the accounts whose client_secret sits in plain text in local/<conf>.conf (no splunkd needed)."""
    _, lines = _account_conf_lines(app_dir, conf_name)
    return [stanza for _, stanza, _, _ in _typed_in_secrets(lines or [])]


def migrate_plaintext_secrets(service, app_dir, conf_name="ta_entra_app_secrets_account"):
    """Move any client_secret an admin typed into local/<conf>.conf to storage/passwords and mask it there.

    Returns the names of the accounts whose secret moved. The file is rewritten atomically, keeping
    every other line (comments included) as it was.
    """
    path, lines = _account_conf_lines(app_dir, conf_name)
    if lines is None:
        return []
    moved = []
    for index, stanza, indent, value in list(_typed_in_secrets(lines)):
        store_account_secret(service, stanza, value)
        newline = "\n" if lines[index].endswith("\n") else ""
        lines[index] = f"{indent}client_secret = {MASKED_SECRET}{newline}"
        moved.append(stanza)
    if moved:
        _replace_file(path, "".join(lines))
    return moved


def move_typed_in_secrets(server_uri, session_key, app_dir, *, service=None):
    """Under splunkd, before any account is loaded: move typed-in secrets to storage/passwords.

    splunkd is contacted only when the file holds such a secret, so certificate accounts never need it.
    Returns the names of the accounts whose secret moved; ConfigError that says what to fix otherwise
    (the secret then stays where it was, and no account loads until it is moved).
    """
    pending = typed_in_secret_accounts(app_dir)
    if not pending:
        return []
    doing = (f"moving the client_secret typed into {ACCOUNT_CONF_PATH} (account {', '.join(pending)}) to "
             f"storage/passwords")
    with splunkd_errors(server_uri, doing, "admin_all_objects"):
        return migrate_plaintext_secrets(service or connect(server_uri, session_key), app_dir)


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
    doing = f"reading the client secret of account {account_name!r} from storage/passwords"
    with splunkd_errors(server_uri, doing, "list_storage_passwords"):
        secret = read_account_secret(service or connect(server_uri, session_key), account_name)
    if not secret:
        raise ConfigError(
            f"account {account_name!r} has no certificate_path and no client secret in storage/passwords "
            f"(realm {PASSWORD_REALM}, username {account_name}); set certificate_path in "
            f"{ACCOUNT_CONF_PATH}, or store the secret under that realm and username (README, 'Client secret "
            f"instead')")
    return secret
