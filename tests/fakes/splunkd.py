"""A small fake of splunkd's management API: storage/passwords, as splunklib 2.1.1 speaks it.

Only what the add-on uses, answered the way splunkd answers it:

- `GET  /servicesNS/<owner>/<app>/storage/passwords?count=-1&offset=0`: an Atom feed of the app's entries
- `GET  /servicesNS/<owner>/<app>/storage/passwords/<realm>:<username>:`: a feed holding that one entry, 404 else
- `POST /servicesNS/<owner>/<app>/storage/passwords` (form `name`, `password`, `realm`): 201 and a feed of the
  new entry; 409 when the entry exists
- `DELETE .../storage/passwords/<realm>:<username>:`: 200 and the remaining entries; 404 when absent

Entries carry `clear_password`, `encr_password`, `password` (masked), `realm`, `username` and an `eai:acl`
block, in splunkd's `<s:dict>` encoding (shape as splunkd 6.x-9.x returns it; `/services/...` without a
namespace lists every app's entries). Requests authenticate with `Authorization: Splunk <session key>`;
anything else is 401. `deny("list_storage_passwords")` makes reads answer 403 and `deny("admin_all_objects")`
makes writes answer 403, with a message naming the capability; `fail_next(method, status)` injects one
error answer (a 409 from a concurrent create, a 500); `hang()` stops answering until `stop()`.

Loopback HTTPS only, with a throwaway CA from the simulator's TLS helper (splunklib does not verify
splunkd's certificate by default, as under a real splunkd). The request log keeps method, path, query
names and status: never a header or a body, so no secret or session key.
"""
import json
import secrets
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape

from entra_simulator.tls import create_server_certificate
from fakes.splunkd_kvstore import FakeKVStore

ATOM_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
             '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:s="http://dev.splunk.com/ns/rest" '
             'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">\n')
READ_CAPABILITY = "list_storage_passwords"
WRITE_CAPABILITY = "admin_all_objects"
UPDATED = "2026-01-01T00:00:00+00:00"


@dataclass
class StoredPassword:
    app: str
    realm: str
    username: str
    clear_password: str
    encr_password: str     # opaque, like splunkd's "$7$..." (never derived from the secret here)
    owner: str = "nobody"

    @property
    def name(self):
        return f"{self.realm}:{self.username}:"


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: tuple       # parameter names only
    status: int


def entry_name(realm, username):
    return f"{realm}:{username}:"


class FakeSplunkd:
    def __init__(self, session_key=None, host="127.0.0.1"):
        self.session_key = session_key or secrets.token_hex(20)
        self.host = host
        self.denied = set()
        self._passwords = {}          # (app, realm, username) -> StoredPassword
        self.kvstore = FakeKVStore()  # storage/collections/*, authentication/* (fakes/splunkd_kvstore.py)
        self._requests = []
        self._failures = []           # (method, status, message), consumed in order
        self._hang = threading.Event()  # cleared: requests wait (a stuck splunkd)
        self._hang.set()
        self._lock = threading.Lock()
        self._server = None
        self._thread = None
        self._tls_dir = None
        self._endpoints = {("storage", "passwords"): self._storage_passwords}   # path prefix -> handler
        from fakes.splunkd_conf import ConfStore

        self.confs = ConfStore(self)   # configs/conf-* and properties

    # ------------------------------------------------------------------------------ lifecycle

    def start(self, tls_dir):
        """Listen on a free loopback port; `tls_dir` receives the CA and the server certificate."""
        certificate = create_server_certificate(str(tls_dir), hosts=(self.host,))
        self._server = _Server((self.host, 0), self, certificate.server_context())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="fake-splunkd", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._hang.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    @property
    def server_uri(self):
        """What splunkd puts in a modular input's <server_uri>."""
        return f"https://{self.host}:{self._server.server_address[1]}"

    # ---------------------------------------------------------------------------- test controls

    def fail_next(self, method, status, message="injected failure"):
        """The next authenticated `method` request answers `status` (e.g. POST 409: another process
        created the entry first) instead of doing its work."""
        with self._lock:
            self._failures.append((method, status, message))

    def hang(self):
        """From now on requests get no answer until stop(): a stuck splunkd."""
        self._hang.clear()

    def deny(self, capability):
        """The role behind the session key lacks `capability` from now on."""
        self.denied.add(capability)

    def put(self, app, realm, username, clear_password):
        """Store a password directly, as an admin would have through Splunk Web."""
        with self._lock:
            self._passwords[(app, realm, username)] = StoredPassword(app, realm, username, clear_password,
                                                                     _opaque_ciphertext())

    def stored(self):
        """{(app, realm, username): clear password} of everything kept."""
        with self._lock:
            return {key: entry.clear_password for key, entry in self._passwords.items()}

    @property
    def requests(self):
        with self._lock:
            return list(self._requests)

    # ------------------------------------------------------------------------------- protocol

    def handle(self, method, raw_path, headers, body):
        """(status, xml text) for one request."""
        self._hang.wait()
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query, keep_blank_values=True)
        segments = [unquote(segment) for segment in parts.path.strip("/").split("/")]
        status, text = self._answer(method, segments, query, headers, body)
        with self._lock:
            self._requests.append(RequestRecord(method, parts.path, tuple(sorted(query)), status))
        return status, text

    def endpoint(self, *prefix):
        """Register a handler for one family of endpoints under /servicesNS/<owner>/<app>/ (or /services/),
        e.g. endpoint("storage", "collections"). The handler gets a `Request` and returns
        (status, body text) or (status, body text, content type)."""
        def register(handler):
            self._endpoints[tuple(prefix)] = handler
            return handler
        return register

    def _answer(self, method, segments, query, headers, body):
        if headers.get("Authorization") != f"Splunk {self.session_key}":
            return _error(401, "WARN", "call not properly authenticated", query)
        with self._lock:
            failure = next((f for f in self._failures if f[0] == method), None)
            if failure is not None:
                self._failures.remove(failure)
        if failure is not None:
            return _error(failure[1], "ERROR", failure[2], query)
        if segments[:1] == ["servicesNS"] and len(segments) >= 3:
            owner, app, rest = segments[1], segments[2], segments[3:]
        elif segments[:1] == ["services"]:
            owner, app, rest = "nobody", None, segments[1:]
        else:
            return _error(404, "ERROR", "Not Found", query)
        if self.kvstore.answers(rest):
            return self.kvstore.answer(method, app, rest, query, headers, body)
        # the longest registered prefix wins; "conf-<file>" is the configs family's own segment
        for length in range(min(len(rest), 3), 0, -1):
            handler = self._endpoints.get(tuple(rest[:length]))
            if handler is not None:
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True) if body else {}
                request = Request(method, owner, app, rest[length:], query, form, headers)
                return handler(request)
        return _error(404, "ERROR", f"Not Found: /{'/'.join(segments)}", query)

    # ------------------------------------------------------------------------- storage/passwords

    def _storage_passwords(self, request):
        method, app, owner = request.method, request.app, request.owner
        # The entity name may hold "/" unencoded: UCC's realm does ("#configs/conf-..."), and splunklib
        # re-encodes entity links with "/" kept, so every UCC account edit (solnlib's 409 path) sends it so.
        name = "/".join(request.rest) if request.rest else None
        needed = READ_CAPABILITY if method == "GET" else WRITE_CAPABILITY
        if needed in self.denied:
            return self._refused(needed, request.query)
        if method == "GET":
            return self._read(app, name, request.query)
        if method == "POST" and name is None:
            return self._create(app, owner, request.form, request.query)
        if method == "POST":
            return self._update_password(app, name, request.form, request.query)
        if method == "DELETE" and name is not None:
            return self._delete(app, name, request.query)
        return _error(405, "ERROR", f"Method {method} not allowed here", request.query)

    def _refused(self, capability, query):
        return _error(403, "ERROR", f"You (user=splunk-system-user) with roles=[limited] cannot perform this "
                                    f"action, it requires capability: {capability}", query)

    def _visible(self, app):
        with self._lock:
            return [entry for entry in self._passwords.values() if app is None or entry.app == app]

    def _read(self, app, name, query):
        entries = self._visible(app)
        if name is None:
            entries = _searched(entries, query, lambda e: {"realm": e.realm, "username": e.username,
                                                          "name": e.name})
            return 200, self._password_feed(app, entries, query)
        found = [entry for entry in entries if entry.name == name]
        if not found:
            return _error(404, "ERROR", f"Could not find object id={name}", query)
        return 200, self._password_feed(app, found, query)

    def _create(self, app, owner, form, query):
        username = (form.get("name") or [""])[0]
        password = (form.get("password") or [""])[0]
        realm = (form.get("realm") or [""])[0]
        if not username or not password:
            return _error(400, "ERROR", "Missing required fields: name, password", query)
        if app is None:
            app = "search"
        with self._lock:
            if (app, realm, username) in self._passwords:
                return _error(409, "ERROR", f"An object with name={entry_name(realm, username)} already exists",
                              query)
            entry = StoredPassword(app, realm, username, password, _opaque_ciphertext(), owner=owner)
            self._passwords[(app, realm, username)] = entry
        return 201, self._password_feed(app, [entry], query)

    def _update_password(self, app, name, form, query):
        password = (form.get("password") or [""])[0]
        with self._lock:
            entry = next((e for e in self._passwords.values()
                          if e.name == name and (app is None or e.app == app)), None)
            if entry is None:
                return _error(404, "ERROR", f"Could not find object id={name}", query)
            if not password:
                return _error(400, "ERROR", "Missing required field: password", query)
            entry.clear_password, entry.encr_password = password, _opaque_ciphertext()
        return 200, self._password_feed(app, [entry], query)

    def _delete(self, app, name, query):
        with self._lock:
            key = next((key for key, entry in self._passwords.items()
                        if entry.name == name and (app is None or entry.app == app)), None)
            if key is None:
                return _error(404, "ERROR", f"Could not find object id={name}", query)
            del self._passwords[key]
        return 200, self._password_feed(app, self._visible(app), query)

    def _password_feed(self, app, entries, query):
        base = f"/servicesNS/nobody/{app}/storage/passwords" if app else "/services/storage/passwords"
        rendered = [FeedEntry(entry.name, entry.owner, entry.app, {
            "clear_password": entry.clear_password, "encr_password": entry.encr_password, "password": "********",
            "realm": entry.realm, "username": entry.username}) for entry in entries]
        return render_feed(self.server_uri, base, "passwords", rendered, query)


@dataclass(frozen=True)
class Request:
    method: str
    owner: str
    app: str
    rest: list          # path segments after the endpoint family's prefix
    query: dict
    form: dict
    headers: object


@dataclass(frozen=True)
class FeedEntry:
    name: str
    owner: str
    app: str
    content: dict       # values: str, bool, list or dict (rendered as <s:list>/<s:dict> or JSON)
    sharing: str = "app"


def _searched(entries, query, fields_of):
    """splunkd's `search` filter: `field=value` matches entries whose field contains value (any case);
    a bare term matches any field."""
    term = (query.get("search") or [""])[0]
    if not term:
        return entries
    field_name, sep, value = term.partition("=")
    if not sep:
        field_name, value = None, term
    value = value.lower()

    def matches(entry):
        fields = fields_of(entry)
        candidates = [fields.get(field_name, "")] if field_name else list(fields.values())
        return any(value in str(candidate).lower() for candidate in candidates)
    return [entry for entry in entries if matches(entry)]


def _wants_json(query):
    return (query.get("output_mode") or [""])[0] == "json"


def render_feed(server_uri, base, title, entries, query):
    """A collection answer as splunkd writes it: Atom by default, JSON with output_mode=json."""
    if _wants_json(query):
        return json.dumps({
            "links": {"create": f"{base}/_new", "_reload": f"{base}/_reload"},
            "origin": f"{server_uri}{base}", "updated": UPDATED,
            "generator": {"build": "fake", "version": "9.2.0"},
            "entry": [_json_entry(server_uri, base, entry) for entry in entries],
            "paging": {"total": len(entries), "perPage": 30, "offset": 0}, "messages": []})
    parts = [ATOM_HEAD, f"  <title>{escape(title)}</title>\n  <id>{server_uri}{base}</id>\n",
             f"  <updated>{UPDATED}</updated>\n  <generator build=\"fake\" version=\"9.2.0\"/>\n",
             "  <author>\n    <name>Splunk</name>\n  </author>\n",
             f"  <link href=\"{base}/_new\" rel=\"create\"/>\n",
             f"  <opensearch:totalResults>{len(entries)}</opensearch:totalResults>\n",
             "  <opensearch:itemsPerPage>30</opensearch:itemsPerPage>\n",
             "  <opensearch:startIndex>0</opensearch:startIndex>\n  <s:messages/>\n"]
    parts.extend(_atom_entry(server_uri, base, entry) for entry in entries)
    parts.append("</feed>\n")
    return "".join(parts)


def _acl(entry):
    return {"app": entry.app, "can_change_perms": True, "can_list": True, "can_share_app": True,
            "can_share_global": True, "can_share_user": False, "can_write": True, "modifiable": True,
            "owner": entry.owner, "perms": {"read": ["*"], "write": ["admin", "sc_admin"]}, "removable": True,
            "sharing": entry.sharing}


def _entry_href(base, entry):
    return f"{base}/{quote(entry.name, safe='')}"


def _json_entry(server_uri, base, entry):
    href = _entry_href(base, entry)
    return {"name": entry.name, "id": f"{server_uri}{href}", "updated": UPDATED,
            "links": {"alternate": href, "list": href, "_reload": f"{href}/_reload", "edit": href, "remove": href},
            "author": entry.owner, "acl": _acl(entry),
            "content": entry.content["$text"] if "$text" in entry.content else {**entry.content, "eai:acl": None}}


def _atom_value(value, indent):
    pad = " " * indent
    if isinstance(value, dict):
        keys = "".join(f"{pad}  <s:key name=\"{escape(k)}\">{_atom_value(v, indent + 4)}</s:key>\n"
                       for k, v in value.items())
        return f"\n{pad}<s:dict>\n{keys}{pad}</s:dict>\n{pad[:-2]}"
    if isinstance(value, list):
        items = "".join(f"{pad}  <s:item>{escape(str(v))}</s:item>\n" for v in value)
        return f"\n{pad}<s:list>\n{items}{pad}</s:list>\n{pad[:-2]}"
    if isinstance(value, bool):
        return "1" if value else "0"
    return escape(str(value))


def _atom_entry(server_uri, base, entry):
    href = _entry_href(base, entry)
    links = "".join(f"    <link href=\"{escape(href)}{suffix}\" rel=\"{rel}\"/>\n" for rel, suffix in
                    (("alternate", ""), ("list", ""), ("_reload", "/_reload"), ("edit", ""), ("remove", "")))
    if "$text" in entry.content:  # properties/<file>/<stanza>: one entry per key, its value as text
        body = f"    <content type=\"text\">{escape(str(entry.content['$text']))}</content>\n"
    else:
        content = {**entry.content, "eai:acl": _acl(entry)}
        keys = "".join(f"        <s:key name=\"{escape(name)}\">{_atom_value(value, 10)}</s:key>\n"
                       for name, value in content.items())
        body = f"    <content type=\"text/xml\">\n      <s:dict>\n{keys}      </s:dict>\n    </content>\n"
    return (f"  <entry>\n    <title>{escape(entry.name)}</title>\n"
            f"    <id>{server_uri}{escape(href)}</id>\n    <updated>{UPDATED}</updated>\n{links}"
            f"    <author>\n      <name>{escape(entry.owner)}</name>\n    </author>\n"
            f"{body}  </entry>\n")


def _error(status, kind, text, query=None):
    """splunkd's error answer in the requested output mode."""
    if query is not None and _wants_json(query):
        return status, json.dumps({"messages": [{"type": kind, "text": text}]})
    return status, _messages(kind, text)


def _messages(kind, text):
    """splunkd's error body: <response><messages><msg type=...>."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<response>\n  <messages>\n'
            f'    <msg type="{kind}">{escape(text)}</msg>\n  </messages>\n</response>\n')


def _opaque_ciphertext():
    return "$7$" + secrets.token_urlsafe(32)


class _Handler(BaseHTTPRequestHandler):
    server_version = "Splunkd"
    sys_version = ""

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, text = self.server.splunkd.handle(self.command, self.path, self.headers, body)
        payload = text.encode("utf-8")
        self.send_response(status)
        content_type = getattr(text, "content_type", None) or (
            "application/json; charset=UTF-8" if text.startswith("{") else "text/xml; charset=UTF-8")
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_DELETE = do_PUT = _serve

    def log_message(self, format, *args):  # nothing on stderr: the request log is enough
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, splunkd, context):
        self.splunkd = splunkd
        self.ssl_context = context
        super().__init__(address, _Handler)

    def finish_request(self, request, client_address):
        # handshake in the connection's thread, so a stuck client cannot block accept()
        request.settimeout(10)
        try:
            connection = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            _Handler(connection, client_address, self)
        except (ssl.SSLError, OSError):
            pass
        finally:
            connection.close()
