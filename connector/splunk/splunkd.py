"""splunkd access shared by the Splunk side: a splunklib Service for the splunkd that started us, and one
ConfigError that says what to fix for whatever can go wrong talking to it.

Accounts and settings come through splunkd's REST API (connector/splunk/settings.py, with solnlib); the
app folder is only where bin/ lives. Log paths under $SPLUNK_HOME are connector.logs.splunk_log_path.
"""
import contextlib
import re

from connector import APP_ID
# The app folder helpers and the conf syntax live with the CLI's conf files; kept here under their old names.
from connector.errors import ConfigError

# splunklib waits forever by default; a hung splunkd must not hang every input run with it
SPLUNKD_TIMEOUT_S = 30


def connect(server_uri, session_key):
    """A splunklib Service for the splunkd that started us (server_uri and session_key from its payload).

    No request is made here: the session key is splunkd's, so there is no login round trip.
    """
    from urllib.parse import urlsplit

    import splunklib.binding
    import splunklib.client

    if not server_uri or not session_key:
        raise ConfigError("no server_uri and session_key from splunkd: this script must be started by splunkd")
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
        reason = _short_reason(exc)
        raise ConfigError(f"no answer from splunkd at {server_uri} while {doing} ({reason}); check that splunkd "
                          f"is running and its management port answers") from None


def _short_reason(exc):
    """"Connection refused" or "timed out", not requests' nested repr of the connection pool."""
    if exc.strerror:
        return exc.strerror
    text = str(exc)
    errno_text = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if errno_text:
        return errno_text.group(1).strip()
    if "timed out" in text.lower():
        return "timed out"
    return type(exc).__name__
