"""Graph's error answers: one exception that knows its status, code and message, and the body shape.

Body (graph-wire-facts.md section 7):
    {"error": {"code": ..., "message": ..., "innerError": {"date", "request-id", "client-request-id"}}}
"""

from __future__ import annotations
import datetime


class GraphError(Exception):
    def __init__(self, status, code, message, headers=None, inner=None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.inner = dict(inner or {})  # extra innerError members, e.g. on 429

    def body(self, request_id, client_request_id=None):
        return error_body(self.code, self.message, request_id, client_request_id, self.inner)


def error_body(code, message, request_id, client_request_id=None, inner_extra=None):
    inner = {**(inner_extra or {}),
             "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
             "request-id": request_id, "client-request-id": client_request_id or request_id}
    return {"error": {"code": code, "message": message, "innerError": inner}}


# The errors the handlers raise, named once so the codes and messages stay consistent.
def bad_request(message, code="Request_BadRequest"):
    return GraphError(400, code, message)


def unsupported_query(message="Unsupported Query."):
    return GraphError(400, "Request_UnsupportedQuery", message)


def not_found(object_id):
    return GraphError(404, "Request_ResourceNotFound",
                      f"Resource '{object_id}' does not exist or one of its queried reference-property objects "
                      "are not present.")


def no_route(path):
    return GraphError(400, "BadRequest", f"Resource not found for the segment '{path.rsplit('/', 1)[-1]}'.")


def method_not_allowed(method):
    return GraphError(405, "Request_BadRequest",
                      f"The HTTP method '{method}' is not allowed for the requested resource.")


def unauthenticated(message="Access token is empty."):
    return GraphError(401, "InvalidAuthenticationToken", message, {"WWW-Authenticate": 'Bearer realm=""'})


def forbidden():
    return GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


def throttled(retry_after, scope="", information=""):
    headers = {"Retry-After": f"{retry_after:g}"}
    if scope:
        headers["x-ms-throttle-scope"] = scope
    if information:
        headers["x-ms-throttle-information"] = information
    # Shape of the 429 sample in Graph's throttling guide.
    return GraphError(429, "TooManyRequests", "Please retry again later.", headers,
                      inner={"code": "429", "message": "Please retry after", "status": "429"})
