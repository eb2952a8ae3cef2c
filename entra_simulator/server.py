"""The simulator's public face, `Simulator` (docs/ARCHITECTURE.md), and its request pipeline.

One loopback TLS server (transport.py) answers both hosts the add-on talks to: the identity platform
(sign-in) and Microsoft Graph. For each request the pipeline lets the fault knobs act, hands the request
to identity.py or graph_api.py (batch.py for $batch), and records the answer in the observer. Its own
log carries method, path, status and timing, never headers or bodies.
"""

from __future__ import annotations
import datetime
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time
import urllib.parse
import uuid

from entra_simulator import graph_errors as errors
from entra_simulator.batch import BatchApi
from entra_simulator.delta import DeltaApi
from entra_simulator.faults import FaultInjector
from entra_simulator.graph_api import GraphApi, GraphRequest, GraphResponse
from entra_simulator.graph_errors import GraphError
from entra_simulator.identity import EntraError, IdentityPlatform
from entra_simulator.observe import Observer, RequestRecord
from entra_simulator.odata import TokenSigner, parse_query_string
from entra_simulator.paging import Pager
from entra_simulator.state import TenantState
from entra_simulator.throttling import ThrottleLimits, Throttler
from entra_simulator.tls import create_server_certificate
from entra_simulator.transport import Answer, TLSServer, json_bytes, write_answer

log = logging.getLogger("entra_simulator.server")

MAX_BODY_BYTES = 4 * 1024 * 1024
# Status codes a fault knob sends, with Graph's error codes for them.
FAULT_CODES = {429: "TooManyRequests", 500: "generalException", 502: "BadGateway", 503: "serviceNotAvailable",
               504: "GatewayTimeout"}


class Simulator:
    """Entra ID sign-in and Microsoft Graph for one generated tenant, on loopback HTTPS."""

    def __init__(self, tenant=None, throttle=None, faults=None, token_lifetime=3600, host="127.0.0.1", port=0,
                 state_dir=None, skiptoken_ttl=3600.0, seed=None, record_signins=False):
        if tenant is None:
            tenant = self._demo_tenant()
        self.tenant = tenant
        self.host, self._port = host, port
        self._state_dir = state_dir
        self._owns_state_dir = state_dir is None
        self.state = TenantState(tenant)
        self.observer = Observer()
        # record_signins: each client-credentials attempt of a sign-in app also lands in the sign-in log,
        # as in Entra (off by default so that tests which count sign-ins see only the generated log).
        self._signin_sequence = 0
        self._signin_lock = threading.Lock()
        self.identity = IdentityPlatform(tenant, self.state, token_lifetime=token_lifetime,
                                         signing_key=secrets.token_bytes(32),
                                         on_sign_in=self._record_sign_in if record_signins else None)
        self.pager = Pager(TokenSigner(secrets.token_bytes(32)), ttl_s=skiptoken_ttl)
        self.faults = FaultInjector(seed=tenant.seed if seed is None else seed)
        self.throttler = None
        self._initial_throttle = throttle
        self.set_throttle(throttle)
        self.graph = GraphApi(tenant, self.state, self.pager, self.throttler, self.faults)
        self.graph.delta_api = DeltaApi(self.graph)
        self.batch = BatchApi(self.graph, self.observer)
        for name, params in (faults or {}).items():
            self.set_fault(name, **(params or {}))
        self._server = None
        self._thread = None
        self.certificate = None

    def _demo_tenant(self):
        from entra_simulator.generator import generate_tenant
        self._tenant_workdir = tempfile.mkdtemp(prefix="entra-sim-tenant-")
        return generate_tenant("demo", seed=7, workdir=self._tenant_workdir)

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self):
        if self._server is not None:
            return self
        if self._state_dir is None:
            self._state_dir = tempfile.mkdtemp(prefix="entra-sim-")
        self.certificate = create_server_certificate(os.path.join(self._state_dir, "tls"), hosts=(self.host,
                                                     "localhost"))
        self._server = TLSServer((self.host, self._port), self._handle, self.certificate.server_context())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="entra-simulator", daemon=True)
        self._thread.start()
        log.info("simulator listening on %s for tenant %s", self.base_url, self.tenant_id)
        return self

    def stop(self):
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(timeout=5)
        self._server = self._thread = None
        if self._owns_state_dir and self._state_dir:
            shutil.rmtree(self._state_dir, ignore_errors=True)
            self._state_dir = None
        workdir = getattr(self, "_tenant_workdir", None)
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def reset(self):
        """Back to the tenant as generated and the options it started with: no writes, faults,
        throttle debt, request log or open pages.
        Access tokens already issued stay valid, so clients keep their token cache."""
        self.state.reset()
        self.faults.clear()
        self.set_throttle(self._initial_throttle)
        self.observer.clear()
        self.pager.clear()

    # ---- public face ------------------------------------------------------------------------
    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def base_url(self):
        return f"https://{self.host}:{self.port}"

    @property
    def ca_path(self):
        return self.certificate.ca_path

    @property
    def state_dir(self):
        return self._state_dir

    @property
    def tenant_id(self):
        return self.tenant.tenant_id

    @property
    def authority(self):
        return f"{self.base_url}/{self.tenant_id}"

    @property
    def identities(self):
        return self.tenant.identities

    @property
    def collector(self):
        return self.tenant.identities["collector"]

    @property
    def responder(self):
        return self.tenant.identities["responder"]

    @property
    def limited(self):
        return self.tenant.identities["limited"]

    @property
    def requests(self):
        return self.observer.requests

    @property
    def counters(self):
        return self.observer.counters

    def set_fault(self, name, **params):
        return self.faults.set(name, **params)

    def clear_faults(self, name=None):
        self.faults.clear(name)

    def set_throttle(self, option):
        """None turns throttling off; "graph" or a dict of ThrottleLimits fields turns it on, fresh."""
        limits = ThrottleLimits.from_option(option, getattr(self.tenant, "size", "demo"))
        throttler = None if limits is None else Throttler(limits, self.tenant.tenant_id)
        self.throttler = throttler
        if getattr(self, "graph", None) is not None:
            self.graph.throttler = throttler

    def add_signin(self, sp_object_id, key_id=None, when=None, success=True, ip_address=None):
        """A sign-in that happens now (or at `when`); auditLogs/signIns serves it from then on."""
        with self._signin_lock:
            self._signin_sequence += 1
            sequence = self._signin_sequence
        record = self.tenant.make_signin(sp_object_id, key_id=key_id, when=when or _utc_now(), success=success,
                                         ip_address=ip_address, sequence=sequence)
        self.state.add_signin(record)
        return record

    def _record_sign_in(self, identity, key_id, success):
        self.add_signin(identity.sp_object_id, key_id=key_id, success=success, ip_address=self.host)

    def revoke_tokens(self):
        self.identity.revoke_all()

    def expire_delta_tokens(self):
        self.graph.delta_api.expire_tokens()

    def info(self):
        """What the command line writes to simulator.json: enough to point the add-on at it."""
        identities = {}
        for name, identity in self.identities.items():
            identities[name] = {"client_id": identity.client_id, "certificate_path": identity.certificate_path,
                                "app_object_id": identity.app_object_id, "sp_object_id": identity.sp_object_id,
                                "roles": list(identity.roles)}
        return {"base_url": self.base_url, "authority": self.authority, "tenant_id": self.tenant_id,
                "tenant_domain": self.tenant.domain, "ca_path": self.ca_path, "size": self.tenant.size,
                "seed": self.tenant.seed, "pid": os.getpid(),
                "collector_client_id": self.collector.client_id,
                "collector_certificate_path": self.collector.certificate_path,
                "identities": identities}

    # ---- request handling -------------------------------------------------------------------
    def _handle(self, handler):
        started = time.perf_counter()
        split = urllib.parse.urlsplit(handler.path)
        path = urllib.parse.unquote(split.path)
        headers = {name.lower(): value for name, value in handler.headers.items()}
        request_id = str(uuid.uuid4())
        client_request_id = headers.get("client-request-id") or request_id
        is_graph = path.split("/")[1:2] in (["v1.0"], ["beta"])
        length = int(headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            answer = self._graph_error(GraphError(413, "RequestEntityTooLarge", "The request body is too large."),
                                       request_id, client_request_id)
            handler.close_connection = True
        else:
            body = handler.rfile.read(length) if length else b""
            answer = self._answer(handler.command, path, split.query, headers, body, is_graph,
                                  request_id, client_request_id)
        sent = write_answer(handler, answer, request_id, client_request_id)
        duration = time.perf_counter() - started
        self.observer.record(RequestRecord(handler.command, path, split.query, answer.route or path,
                                           0 if answer.reset else answer.status, sent, duration, answer.app,
                                           request_id))
        log.debug("%s %s %s %dB %.1fms app=%s", handler.command, path, answer.status, sent, duration * 1000,
                  answer.app)

    def _answer(self, method, path, query, headers, body, is_graph, request_id, client_request_id):
        follows_link = "skiptoken" in query.lower() or "deltatoken" in query.lower()
        delay, fault = self.faults.pick(path, is_graph, follows_next_link=follows_link)
        if delay:
            time.sleep(delay)
        if fault is not None:
            if fault.kind == "connection_reset":
                answer = Answer(0, route="fault connection_reset")
                answer.reset = True
                return answer
            if fault.kind == "http":
                retry = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
                error = GraphError(fault.status, FAULT_CODES.get(fault.status, "generalException"),
                                   "The service is temporarily unavailable. Please retry later."
                                   if fault.status != 429 else "Please retry again later.", retry)
                answer = self._graph_error(error, request_id, client_request_id)
                answer.route = f"fault {fault.name}"
                return answer
            if fault.kind == "revoke_tokens":
                self.identity.revoke_all()
            if fault.kind == "expire_next_link":
                self.pager.expire_all()
        try:
            if is_graph:
                answer = self._graph(method, path, query, headers, body, request_id, client_request_id)
            else:
                answer = self._identity(method, path, query, headers, body)
        except Exception:  # a bug in the simulator must show up as a 500, not a hung client
            log.exception("simulator error on %s %s", method, path)
            answer = self._graph_error(GraphError(500, "generalException", "Simulator internal error."),
                                       request_id, client_request_id)
        if fault is not None and fault.kind == "truncated_body":
            answer.truncate_to = int(len(answer.body) * fault.keep)
        return answer

    # identity platform
    def _identity(self, method, path, query, headers, body):
        parts = [part for part in path.split("/") if part]
        params = dict(urllib.parse.parse_qsl(query))
        try:
            if method == "GET" and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
                return Answer(200, json_bytes(self.identity.openid_configuration(self.base_url, parts[0])),
                               route="GET /{tenant}/v2.0/.well-known/openid-configuration")
            if method == "GET" and parts[1:] == ["discovery", "instance"]:
                answer = self.identity.instance_discovery(self.base_url, params.get("authorization_endpoint"))
                return Answer(200, json_bytes(answer), route="GET /common/discovery/instance")
            if method == "GET" and parts[1:] == ["discovery", "v2.0", "keys"]:
                return Answer(200, json_bytes({"keys": []}), route="GET /{tenant}/discovery/v2.0/keys")
            if parts[1:] == ["oauth2", "v2.0", "token"]:
                if method != "POST":
                    raise EntraError(405, "invalid_request", 900561,
                                     "The endpoint only accepts POST requests.")
                form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
                client_id = form.get("client_id")
                try:
                    tokens = self.identity.token(self.base_url, parts[0], form)
                finally:
                    form.clear()  # drop the secret or assertion as soon as possible
                return Answer(200, json_bytes(tokens), route="POST /{tenant}/oauth2/v2.0/token", app=client_id,
                               headers={"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"})
        except EntraError as error:
            route = "POST /{tenant}/oauth2/v2.0/token" if "oauth2" in parts else "GET /{tenant}/v2.0/.well-known"
            return Answer(error.status, json_bytes(error.body(headers.get("client-request-id"))), route=route)
        return Answer(404, json_bytes({"error": "not_found", "error_description": f"No route for {path}."}),
                       route="identity unknown")

    # Microsoft Graph
    def _graph_error(self, error, request_id, client_request_id):
        return Answer(error.status, json_bytes(error.body(request_id, client_request_id)),
                       headers=error.headers)

    def _graph(self, method, path, query, headers, body, request_id, client_request_id):
        _, api, rest = path.split("/", 2) if path.count("/") >= 2 else (None, path.strip("/"), "")
        rest = "/" + rest
        try:
            grant = self.identity.authenticate(headers.get("authorization"))
        except GraphError as error:
            answer = self._graph_error(error, request_id, client_request_id)
            answer.route = f"{method} /{{api}} unauthenticated"
            return answer
        try:
            options = parse_query_string(query)
        except GraphError as error:
            answer = self._graph_error(error, request_id, client_request_id)
            answer.app = grant.client_id
            return answer
        request = GraphRequest(method, api, rest, options, headers, body, grant, self.base_url)
        if rest.rstrip("/") == "/$batch":
            route = "POST /{api}/$batch"
            try:
                if method != "POST":
                    raise errors.method_not_allowed(method)
                response = self.batch.serve(request)
            except GraphError as error:
                response = GraphResponse(error.status, error, dict(error.headers))
        else:
            route, response = self.graph.dispatch(request)
        answer = self._from_response(response, request_id, client_request_id)
        answer.route, answer.app = route, grant.client_id
        return answer

    def _from_response(self, response, request_id, client_request_id):
        if isinstance(response.body, GraphError):
            return Answer(response.status, json_bytes(response.body.body(request_id, client_request_id)),
                           headers=response.headers)
        if response.body is None:
            return Answer(response.status, b"", content_type=None, headers=response.headers)
        if isinstance(response.body, str):
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
            return Answer(response.status, response.body.encode("utf-8"), "text/plain", headers)
        return Answer(response.status, json_bytes(response.body),
                       "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;"
                       "charset=utf-8", response.headers)

def _utc_now():
    return datetime.datetime.now(datetime.timezone.utc)
