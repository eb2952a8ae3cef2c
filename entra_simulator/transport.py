"""The HTTP side of the simulator: a threaded TLS server, its request handler, and answer writing.

Nothing here knows about Entra or Graph: the server calls `handle(handler)` for every request and the
caller builds an `Answer`, which `write_answer` sends (or breaks on purpose, for the fault knobs).
"""

from __future__ import annotations
import json
import socket
import ssl
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Answer:
    """What goes back on the wire for one request."""

    def __init__(self, status, body=b"", content_type="application/json", headers=None, route="", app=None):
        self.status, self.body, self.content_type = status, body, content_type
        self.headers = dict(headers or {})
        self.route, self.app = route, app
        self.truncate_to = None   # truncated_body fault: bytes actually sent
        self.reset = False        # connection_reset fault: no answer at all


def json_bytes(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes: without this, 40 ms per request
    server_version = "Microsoft-IIS/10.0"
    sys_version = ""
    timeout = 120  # an idle keep-alive connection's thread ends after this

    def do_GET(self):
        self.server.handle(self)

    do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_GET

    def log_message(self, format, *args):  # the simulator logs requests itself, without headers
        pass


class TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128

    def __init__(self, address, handle, context):
        self.handle = handle  # called with each request's handler, in the connection's thread
        self.ssl_context = context
        self._connections = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake happens here, in the connection's own thread, so that one slow client
        # cannot hold up accept() for everyone else.
        request.settimeout(_Handler.timeout)
        try:
            connection = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with self._connections_lock:
            self._connections.add(connection)
        try:
            _Handler(connection, client_address, self)
        except (ssl.SSLError, OSError):
            pass
        finally:
            with self._connections_lock:
                self._connections.discard(connection)
            connection.close()

    def close_connections(self):
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def write_answer(handler, answer, request_id, client_request_id):
    """Send one answer; returns the body bytes actually sent (0 for a reset connection)."""
    if answer.reset:
        reset_connection(handler)
        return 0
    body = answer.body
    handler.send_response(answer.status)
    if answer.content_type:
        handler.send_header("Content-Type", answer.content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.send_header("request-id", request_id)
    handler.send_header("client-request-id", client_request_id)
    handler.send_header("x-ms-ags-diagnostic", '{"ServerInfo":{"DataCenter":"Loopback","Slice":"E"}}')
    for name, value in answer.headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    if handler.command == "HEAD":
        return 0
    if answer.truncate_to is not None:
        handler.wfile.write(body[:answer.truncate_to])
        handler.wfile.flush()
        reset_connection(handler)
        return answer.truncate_to
    handler.wfile.write(body)
    return len(body)


def reset_connection(handler):
    """Drop the connection with a TCP reset (SO_LINGER 0), as a failing load balancer does."""
    handler.close_connection = True
    try:
        handler.wfile.flush()
    except OSError:
        pass
    try:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()
    except OSError:
        pass
