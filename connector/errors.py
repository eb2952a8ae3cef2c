"""The add-on's error tree, and the one table from an HTTP status to a Graph exception.

Every error's str() is safe to log: it carries Graph's code, message and request id, never a token,
secret, client assertion or Authorization header. Messages that come from a server go through the
add-on's one redaction rule set (connector.logs) before they are stored: a server echoing a request
is not impossible.
"""
import json
import re

from connector.logs import REDACTED, redact_text

_MAX_MESSAGE = 500


def scrub(text, secrets=()):
    """Text safe to keep in an exception: known secret values and secret-shaped material removed, bounded."""
    if text is None:
        return ""
    text = str(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = redact_text(text)
    if len(text) > _MAX_MESSAGE:
        text = text[:_MAX_MESSAGE] + "..."
    return text


class AddonError(Exception):
    """Base of every error the add-on raises on purpose.

    Messages often quote a setting's value so the admin sees what to fix; a secret pasted into the
    wrong field must not be quoted back, so every message passes the redaction rules here, once.
    """

    def __str__(self):
        return redact_text(super().__str__())


class ConfigError(AddonError):
    """A setting is missing or wrong; the message says which one and how to fix it."""


class AuthenticationError(AddonError):
    """The token endpoint refused to issue a token (or could not be reached).

    `aadsts_code` is Entra's code such as "AADSTS7000215" (None when the failure was not an Entra answer).
    """

    def __init__(self, aadsts_code, message, *, error=None, correlation_id=None):
        self.aadsts_code = aadsts_code
        self.error = error
        self.correlation_id = correlation_id
        self.message = scrub(message)
        super().__init__(self.__str__())

    def __str__(self):
        text = f"{self.aadsts_code or self.error or 'authentication failed'}: {self.message}"
        if self.correlation_id:
            text += f" (correlation-id {self.correlation_id})"
        return text


class GraphError(AddonError):
    """An answer from Microsoft Graph that is not a success, or no answer at all (status None)."""

    def __init__(self, status, code, message, request_id=None, client_request_id=None, *,
                 method=None, path=None, hint=None, retry_after=None):
        self.status = status
        self.code = code or ""
        self.message = scrub(message)
        self.request_id = request_id
        self.client_request_id = client_request_id
        self.method = method
        self.path = path
        self.hint = hint
        self.retry_after = retry_after
        super().__init__(self.__str__())

    def __str__(self):
        where = f"{self.method} {self.path} " if self.method and self.path else ""
        status = f"HTTP {self.status}" if self.status else "no HTTP answer"
        text = f"{where}{status}"
        if self.code:
            text += f" {self.code}"
        if self.message:
            text += f": {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        if self.request_id:
            text += f" [request-id {self.request_id}]"
        return text


class GraphBadRequest(GraphError):
    """400: the request is malformed (often a $filter or $select Graph does not support)."""


class GraphUnauthorized(GraphError):
    """401: the token was refused even after one refresh."""


class GraphForbidden(GraphError):
    """403: the app lacks a permission (the hint names it when the route is known)."""


class GraphNotFound(GraphError):
    """404: the object does not exist (or has not replicated yet)."""


class DeltaTokenExpired(GraphError):
    """410 or syncStateNotFound/resyncRequired: the delta link is no longer valid; start a full sync."""


class GraphThrottled(GraphError):
    """429 (or 503/504) still answered after the retry budget was spent."""


class GraphServerError(GraphError):
    """5xx from Graph after the retries."""


class GraphTransportError(GraphError):
    """No usable answer: connection refused or reset, timeout, TLS failure, truncated or non-JSON body.

    `sent_nothing`: the request provably never reached the server (a write may be sent again);
    `permanent`: the same request meets the same failure (an untrusted certificate): not retried."""

    def __init__(self, *args, sent_nothing=False, permanent=False, **kwargs):
        self.sent_nothing = sent_nothing
        self.permanent = permanent
        super().__init__(*args, **kwargs)


STATUS_TO_ERROR = {
    400: GraphBadRequest,
    401: GraphUnauthorized,
    403: GraphForbidden,
    404: GraphNotFound,
    410: DeltaTokenExpired,
    429: GraphThrottled,
}
DELTA_RESET_CODES = {"syncstatenotfound", "resyncrequired", "syncstateinvalid"}

# Route (regex on the path after the version) -> the least application permission that route needs
# (graph-wire-facts.md sections 1.1, 2.3, 2.4, 2.5, 3, 4). Writes are listed before reads.
_PERMISSION_BY_ROUTE = (
    ("POST", r"^/(applications|servicePrincipals)\b.*/(removePassword|addPassword)$",
     "Application.ReadWrite.OwnedBy or Application.ReadWrite.All"),
    ("PATCH", r"^/servicePrincipals\b", "Application.ReadWrite.OwnedBy or Application.ReadWrite.All"),
    ("PATCH", r"^/applications\b", "Application.ReadWrite.OwnedBy or Application.ReadWrite.All"),
    ("GET", r"^/auditLogs/signIns", "AuditLog.Read.All (and Directory.Read.All), plus an Entra ID P1/P2 licence"),
    ("GET", r"^/reports/", "AuditLog.Read.All"),
    ("GET", r"^/roleManagement/directory", "RoleManagement.Read.Directory"),
    ("GET", r"^/(applications|servicePrincipals)\b", "Application.Read.All"),
    ("GET", r"^/directoryRoles", "RoleManagement.Read.Directory"),
)


def permission_hint(method, path):
    """Name the application permission a route needs, for a 403 an admin can act on; None when unknown."""
    if not method or not path:
        return None
    path = re.sub(r"^/(v1\.0|beta)(?=/)", "", path.split("?", 1)[0])
    for route_method, pattern, permission in _PERMISSION_BY_ROUTE:
        if route_method == method.upper() and re.search(pattern, path):
            return f"grant the application permission {permission} and admin consent"
    return None


def _get_ci(mapping, key):
    """dict.get with a case-insensitive key, because Graph spells innerError and innererror."""
    if not isinstance(mapping, dict):
        return None
    if key in mapping:
        return mapping[key]
    lowered = key.lower()
    for name, value in mapping.items():
        if isinstance(name, str) and name.lower() == lowered:
            return value
    return None


def parse_graph_error_body(body):
    """(code, message, request_id, client_request_id) from a Graph error body; tolerant of any shape."""
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body) if body.strip() else {}
        except ValueError:
            return "", body.strip(), None, None
    error = _get_ci(body, "error")
    if not isinstance(error, dict):
        return "", "", None, None
    code = _get_ci(error, "code") or ""
    message = _get_ci(error, "message") or ""
    request_id = client_request_id = None
    inner = _get_ci(error, "innerError")
    # innerError may nest further innerErrors; the ids sit on the first level that has them.
    while isinstance(inner, dict):
        request_id = request_id or _get_ci(inner, "request-id")
        client_request_id = client_request_id or _get_ci(inner, "client-request-id")
        inner = _get_ci(inner, "innerError")
    return str(code), str(message), request_id, client_request_id


def error_class_for(status, code=""):
    """The exception class for an HTTP status (and Graph code, which can mark a delta reset)."""
    if code and code.lower() in DELTA_RESET_CODES:
        return DeltaTokenExpired
    if status in STATUS_TO_ERROR:
        return STATUS_TO_ERROR[status]
    if status and status >= 500:
        return GraphServerError
    return GraphError


def graph_error_from_response(status, body, headers=None, *, method=None, path=None, retry_after=None):
    """Build the typed GraphError for a non-success answer (body as bytes, str or parsed JSON)."""
    code, message, request_id, client_request_id = parse_graph_error_body(body)
    headers = headers or {}
    # Graph repeats the ids as response headers; they also identify errors whose body is not JSON.
    request_id = request_id or _get_ci(dict(headers), "request-id")
    client_request_id = client_request_id or _get_ci(dict(headers), "client-request-id")
    cls = error_class_for(status, code)
    hint = permission_hint(method, path) if cls is GraphForbidden else None
    return cls(status, code, message, request_id, client_request_id,
               method=method, path=path, hint=hint, retry_after=retry_after)


def error_record(stage, error):
    """{stage, code, message, request_id}: one harvest error as the health event lists it (no token)."""
    if isinstance(error, GraphError):
        return {"stage": stage, "code": error.code or str(error.status or ""), "message": str(error),
                "request_id": error.request_id}
    return {"stage": stage, "code": type(error).__name__, "message": scrub(error), "request_id": None}
