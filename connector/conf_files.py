"""The CLI's conf files: the app folder it is pointed at, and Splunk's .conf syntax read from disk.

Only the command line reads files: under splunkd the modular input and the alert actions get every
setting from splunkd's REST API (connector/splunk/settings.py), which parses and layers the files itself.

Our own parser rather than addonfactory-splunk-conf-parser-lib: that library (a configparser subclass)
keeps the backslash of a continued line (tests/knowledge/splunk_conf.py has to undo it) and silently
drops keys before the first stanza, which Splunk puts in [default]; and as a run-time dependency of the CLI only it
would be one more vendored package for a path the Splunk app never takes. Splunk's rules fit in 20 lines.
"""
import os

from connector import APP_ID
from connector.errors import ConfigError


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
