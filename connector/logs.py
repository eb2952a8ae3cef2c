"""Logging for the add-on: structlog JSON lines, one redaction rule set for every output.

Under Splunk (SPLUNK_HOME set and a log name given) logs go to
$SPLUNK_HOME/var/log/splunk/ta_entra_app_secrets_<name>.log with rotation, where splunkd indexes them
into _internal; everywhere else they go to stderr. Other libraries' stdlib records (msal, urllib3)
pass through the same formatter, so they are redacted and rendered as JSON too.

`redact_text` and `redact` are the add-on's single definition of "secret material": error messages,
exception texts and events use them as well, so a secret removed from a log line is also removed
everywhere else. The rules match on the shape of a value whatever its key is called, plus on key
names that say secret. They must not touch GUIDs, key ids, 3-character hints, thumbprints or
timestamps: those are the findings.
"""
import logging
import logging.handlers
import os
import re
import sys

import structlog

REDACTED = "[REDACTED]"
# the one environment variable that sets the level when the caller does not (level=None)
LOG_LEVEL_ENV = "TA_ENTRA_APP_SECRETS_LOG_LEVEL"
LOG_PREFIX = "ta_entra_app_secrets"
MAX_LOG_BYTES = 25 * 1024 * 1024
LOG_BACKUPS = 5
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# --- key names -------------------------------------------------------------------------------------
# A key is secret when its name, lowercased with separators dropped, ENDS with one of these words:
# `client_secret`, `refresh_token`, `sessionKey`, `Proxy-Authorization` are secret, while
# `secret_hint`, `tokenIssuerType`, `passwordCredentials` and a `secrets` count are not.
_SECRET_NAME_ENDINGS = (
    "secret", "password", "passwd", "passphrase", "token", "assertion", "authorization",
    "sessionkey", "privatekey", "secrettext", "apikey", "cookie",
)


# Names secret only as a whole: an Azure SAS URL's signature (`sig=`) opens the resource by itself;
# a storage connection string's `AccountKey=` is the account's key.
_SECRET_NAMES = ("sig", "accountkey")

# Paging cursors are called tokens but open nothing; a nextLink's $skiptoken must stay readable.
_CURSOR_NAME_ENDINGS = ("skiptoken", "deltatoken", "continuationtoken", "pagetoken", "nexttoken")


def is_secret_name(name):
    """True when a key or parameter name says its value is secret material."""
    normalized = re.sub(r"[^a-z0-9]", "", str(name).lower())
    if normalized in _SECRET_NAMES:
        return True
    return normalized.endswith(_SECRET_NAME_ENDINGS) and not normalized.endswith(_CURSOR_NAME_ENDINGS)


# --- value shapes ------------------------------------------------------------------------------------
_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
    r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|.*\Z)",  # an unterminated block goes to the end
    re.DOTALL)
# "Authorization: Bearer x", "'authorization': 'Splunk x'", "Proxy-Authorization=Basic x"
_AUTHORIZATION_VALUE = re.compile(
    r"(?i)(\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)"
    r"(?!(?:[a-z]+\s+)?\[REDACTED)"
    r"((?:bearer|basic|splunk|pop|negotiate|ntlm|digest)\s+)?"
    r"[^\s\"',;}]+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?!\[REDACTED)[A-Za-z0-9\-._~+/]+=*")
# A JWT (access token, id token, client assertion): a base64url JSON header always starts "eyJ".
# The second pattern catches three long base64url segments whose header was encoded differently.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_THREE_SEGMENT_TOKEN = re.compile(r"(?<![\w.-])[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}(?![\w-])")
# Tokens that are not JWTs: opaque access tokens of Microsoft accounts and some resources start
# "EwA".."EwD" (base64 of a binary blob, hundreds of characters); refresh tokens are opaque too, today
# "0.A"/"1.A" followed by base64url segments joined by dots, in older and documented samples
# "AwABAAAA"/"AQABAAAA". Long enough (60+) that a word, a version or a key id never matches.
_OPAQUE_ACCESS_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_.-])Ew[A-D][A-Za-z0-9+/_-]{60,}={0,2}")
_REFRESH_TOKEN = re.compile(r"(?<![A-Za-z0-9+/_.-])(?:[01]\.A|A[wQ]ABAAAA)[A-Za-z0-9+/_.-]{60,}={0,2}")
# Entra client secrets since 2021: 3 characters (the hint Graph shows), a digit, "Q~", then 31-34
# more: 40 characters in all. Same shape as Microsoft's AadClientAppIdentifiableCredentials rule
# and gitleaks' azure-ad-client-secret rule.
_ENTRA_CLIENT_SECRET = re.compile(r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}")
# https://user:password@host
# (up to the last "@" of the authority: a password may hold "@" itself)
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)(?!\[REDACTED)[^/\s]+(@)")
# "name": "value" and 'name': 'value' (JSON text, Python reprs); the name decides.
_QUOTED_PAIR = re.compile(
    r"(?P<nq>[\"']?)(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)(?P=nq)(?P<sep>\s*[:=]\s*)"
    r"(?P<vq>[\"'])(?P<value>(?:\\.|(?!(?P=vq)).)*)(?P=vq)")
# name=value (form bodies, query strings, environment dumps) and "name: value"; the name decides.
# The value is matched in a lookahead so that it is not consumed: in "failed: X-Api-Token: abc" the
# value of "failed" would otherwise swallow the name "X-Api-Token" and its secret would be skipped.
_BARE_PAIR = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)(?P<sep>=|:[ \t]*)(?=(?P<value>[^\s&\"',;}\]<>]+))")
# <session_key>...</session_key> in splunkd's modular input XML on stdin
_XML_ELEMENT = re.compile(r"<(?P<name>[A-Za-z_][\w.-]*)>(?P<value>[^<]+)</(?P=name)>")


def _looks_like_material(value):
    # After "name: " prose is as likely as a secret ("client secret: rotate it"); a secret has a
    # digit or a symbol in it, or is long.
    return len(value) >= 16 or not value.isalpha()


def _secret_value(match):
    value = match.group("value")
    if not is_secret_name(match.group("name")) or not value or value.startswith(REDACTED[:-1]):
        return False
    return not (match.re is _BARE_PAIR and match.group("sep").startswith(":") and not _looks_like_material(value))


def _replace_named_value(match):
    if not _secret_value(match):
        return match.group(0)
    start, end = match.span("value")
    offset = match.start()
    whole = match.group(0)
    return whole[:start - offset] + REDACTED + whole[end - offset:]


def _redact_bare_pairs(text):
    pieces, cursor = [], 0
    for match in _BARE_PAIR.finditer(text):
        if match.start() < cursor or not _secret_value(match):
            continue  # inside a value already replaced, or not secret
        start, end = match.span("value")
        pieces += [text[cursor:start], REDACTED]
        cursor = end
    return "".join(pieces) + text[cursor:]


def redact_text(text):
    """Return `text` with every piece of secret material replaced by [REDACTED]."""
    if not isinstance(text, str):
        text = str(text)
    if not text:
        return text
    text = _PEM_PRIVATE_KEY.sub("-----BEGIN PRIVATE KEY-----" + REDACTED + "-----END PRIVATE KEY-----", text)
    text = _AUTHORIZATION_VALUE.sub(lambda m: m.group(1) + (m.group(2) or "") + REDACTED, text)
    text = _BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + REDACTED + m.group(2), text)
    text = _QUOTED_PAIR.sub(_replace_named_value, text)
    text = _redact_bare_pairs(text)
    text = _XML_ELEMENT.sub(_replace_named_value, text)
    text = _JWT.sub(REDACTED, text)
    text = _THREE_SEGMENT_TOKEN.sub(REDACTED, text)
    text = _OPAQUE_ACCESS_TOKEN.sub(REDACTED, text)
    text = _REFRESH_TOKEN.sub(REDACTED, text)
    return _ENTRA_CLIENT_SECRET.sub(REDACTED, text)


def redact(obj):
    """Redact a value of any shape: dicts and lists recursively, strings by `redact_text`.

    A dict value under a secret-named key is replaced whole, unless it is a bool, a number or None
    (`has_secret: true` is a fact, not a secret). Objects of other types become their redacted
    str(), because an exception's or object's text may carry what a string would.
    """
    if obj is None or isinstance(obj, (bool, int, float)):
        return obj
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, bytes):
        return redact_text(obj.decode("utf-8", errors="replace"))
    if isinstance(obj, dict):
        return {key: _redact_item(key, value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [redact(item) for item in obj]
    return redact_text(str(obj))


def _redact_item(key, value):
    if is_secret_name(key) and not (value is None or isinstance(value, (bool, int, float))):
        return REDACTED
    return redact(value)


_LEADING_KEYS = ("timestamp", "level", "logger", "event")


def redaction_processor(_logger, _method_name, event_dict):
    """structlog processor: the last step before rendering, after tracebacks became text.

    It also puts timestamp, level, logger and event first so a person can read the lines."""
    ordered = {key: event_dict[key] for key in _LEADING_KEYS if key in event_dict}
    ordered.update(event_dict)
    return {key: _redact_item(key, value) for key, value in ordered.items()
            if key not in ("_record", "_from_structlog")}


# --- configuration -----------------------------------------------------------------------------------
class _OurHandlerMarker:
    """Marks the handler configure_logging installed so a second call replaces it, not adds to it."""


def _level_number(level):
    if level is None:
        level = os.environ.get(LOG_LEVEL_ENV) or "INFO"
    if isinstance(level, int):
        return level
    name = str(level).strip().upper()
    if name not in _LEVELS:
        raise ValueError(f"log level {level!r} is not one of {', '.join(_LEVELS)}")
    return getattr(logging, name)


def splunk_log_path(splunk_log_name, splunk_home=None):
    """$SPLUNK_HOME/var/log/splunk/ta_entra_app_secrets_<name>.log, or None outside Splunk."""
    splunk_home = splunk_home or os.environ.get("SPLUNK_HOME")
    if not splunk_home or not splunk_log_name:
        return None
    safe_name = re.sub(r"[^a-z0-9_]+", "_", str(splunk_log_name).lower()).strip("_")
    if not safe_name:
        raise ValueError(f"log name {splunk_log_name!r} has no letters or digits")
    return os.path.join(splunk_home, "var", "log", "splunk", f"{LOG_PREFIX}_{safe_name}.log")


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record is emitted, not when logging was configured:
    test runners and embedding code swap sys.stderr, and a closed one must not swallow later records."""

    def __init__(self):
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr


def _make_handler(splunk_log_name, stream, log_file=None):
    path = log_file or (None if stream is not None else splunk_log_path(splunk_log_name))
    if path:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8", delay=True)
    else:
        handler = logging.StreamHandler(stream) if stream is not None else _CurrentStderrHandler()
    handler.set_name(f"{LOG_PREFIX}:{path or 'stream'}")
    setattr(handler, "_ta_entra_app_secrets", _OurHandlerMarker)
    return handler, path


def _shared_processors():
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    ]


RENDERINGS = ("json", "text")


def configure_logging(level="INFO", *, splunk_log_name=None, stream=None, render="json", log_file=None):
    """Send every log record (ours and libraries') through redaction to one handler.

    `level` is a name (DEBUG, INFO, WARNING, ERROR, CRITICAL, any case) or a number; None takes
    $TA_ENTRA_APP_SECRETS_LOG_LEVEL, else INFO. `render` is "json" (JSON lines: Splunk and scripts) or
    "text" (one readable line per record, for a person at a terminal; the same redaction). `log_file`
    (the CLI's --log-file) sends the records to that file, rotated like the Splunk log.

    Returns the log file path (under Splunk or `log_file`), else None. Calling it again replaces the
    previous setup.
    """
    level_number = _level_number(level)
    if render not in RENDERINGS:
        raise ValueError(f"log rendering {render!r} is not one of {', '.join(RENDERINGS)}")
    handler, path = _make_handler(splunk_log_name, stream, log_file)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redaction_processor,
            (structlog.processors.JSONRenderer(sort_keys=False, default=str) if render == "json"
             else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)),
        ],
    ))

    root = logging.getLogger()
    _remove_our_handlers(root)
    root.addHandler(handler)
    root.setLevel(level_number)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            # redact before the record reaches stdlib logging, so no other handler (pytest's capture,
            # a library's) ever holds the raw values
            structlog.processors.format_exc_info,
            redaction_processor,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return path


def _remove_our_handlers(root):
    for old in [h for h in root.handlers if getattr(h, "_ta_entra_app_secrets", None) is _OurHandlerMarker]:
        root.removeHandler(old)
        old.close()


def reset_logging():
    """Undo configure_logging (for tests): drop our handler and structlog's configuration."""
    _remove_our_handlers(logging.getLogger())
    structlog.reset_defaults()


def get_logger(name):
    """A structlog logger; logging is set up with the defaults (INFO to stderr) if nobody did it yet,
    so an unconfigured process can never print secrets through structlog's default console output."""
    if not structlog.is_configured():
        configure_logging()
    return structlog.stdlib.get_logger(name)
