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

    def _answer(self, method, segments, query, headers, body):
        if headers.get("Authorization") != f"Splunk {self.session_key}":
            return 401, _messages("WARN", "call not properly authenticated")
        with self._lock:
            failure = next((f for f in self._failures if f[0] == method), None)
            if failure is not None:
                self._failures.remove(failure)
        if failure is not None:
            return failure[1], _messages("ERROR", failure[2])
        if segments[:1] == ["servicesNS"] and len(segments) >= 3:
            owner, app, rest = segments[1], segments[2], segments[3:]
        elif segments[:1] == ["services"]:
            owner, app, rest = "nobody", None, segments[1:]
        else:
            return 404, _messages("ERROR", "Not Found")
        if self.kvstore.answers(rest):
            return self.kvstore.answer(method, app, rest, query, headers, body)
        if rest[:2] != ["storage", "passwords"] or len(rest) > 3:
            return 404, _messages("ERROR", f"Not Found: /{'/'.join(segments)}")
        name = rest[2] if len(rest) == 3 else None
        needed = READ_CAPABILITY if method == "GET" else WRITE_CAPABILITY
        if needed in self.denied:
            return 403, _messages("ERROR", f"You (user=splunk-system-user) with roles=[limited] cannot perform "
                                           f"this action, it requires capability: {needed}")
        if method == "GET":
            return self._read(app, name)
        if method == "POST" and name is None:
            return self._create(app, owner, parse_qs(body.decode("utf-8"), keep_blank_values=True))
        if method == "DELETE" and name is not None:
            return self._delete(app, name)
        return 405, _messages("ERROR", f"Method {method} not allowed here")

    def _visible(self, app):
        with self._lock:
            return [entry for entry in self._passwords.values() if app is None or entry.app == app]

    def _read(self, app, name):
        entries = self._visible(app)
        if name is None:
            return 200, self._feed(app, entries)
        found = [entry for entry in entries if entry.name == name]
        if not found:
            return 404, _messages("ERROR", f"Could not find object id={name}")
        return 200, self._feed(app, found)

    def _create(self, app, owner, form):
        username = (form.get("name") or [""])[0]
        password = (form.get("password") or [""])[0]
        realm = (form.get("realm") or [""])[0]
        if not username or not password:
            return 400, _messages("ERROR", "Missing required fields: name, password")
        if app is None:
            app = "search"
        with self._lock:
            if (app, realm, username) in self._passwords:
                return 409, _messages("ERROR", f"An object with name={entry_name(realm, username)} already exists")
            entry = StoredPassword(app, realm, username, password, _opaque_ciphertext(), owner=owner)
            self._passwords[(app, realm, username)] = entry
        return 201, self._feed(app, [entry])

    def _delete(self, app, name):
        with self._lock:
            key = next((key for key, entry in self._passwords.items()
                        if entry.name == name and (app is None or entry.app == app)), None)
            if key is None:
                return 404, _messages("ERROR", f"Could not find object id={name}")
            del self._passwords[key]
        return 200, self._feed(app, self._visible(app))

    def _feed(self, app, entries):
        base = f"/servicesNS/nobody/{app}/storage/passwords" if app else "/services/storage/passwords"
        parts = [ATOM_HEAD, f"  <title>passwords</title>\n  <id>{self.server_uri}{base}</id>\n",
                 f"  <updated>{UPDATED}</updated>\n  <generator build=\"fake\" version=\"9.2.0\"/>\n",
                 "  <author>\n    <name>Splunk</name>\n  </author>\n",
                 f"  <link href=\"{base}/_new\" rel=\"create\"/>\n",
                 f"  <opensearch:totalResults>{len(entries)}</opensearch:totalResults>\n",
                 "  <opensearch:itemsPerPage>30</opensearch:itemsPerPage>\n",
                 "  <opensearch:startIndex>0</opensearch:startIndex>\n  <s:messages/>\n"]
        parts.extend(self._entry(entry) for entry in entries)
        parts.append("</feed>\n")
        return "".join(parts)

    def _entry(self, entry):
        href = f"/servicesNS/{entry.owner}/{entry.app}/storage/passwords/{quote(entry.name, safe='')}"
        links = "".join(f"    <link href=\"{escape(href)}{suffix}\" rel=\"{rel}\"/>\n" for rel, suffix in
                        (("alternate", ""), ("list", ""), ("_reload", "/_reload"), ("edit", ""), ("remove", "")))
        keys = {"clear_password": entry.clear_password, "encr_password": entry.encr_password,
                "password": "********", "realm": entry.realm, "username": entry.username}
        content = "".join(f"        <s:key name=\"{name}\">{escape(value)}</s:key>\n" for name, value in keys.items())
        acl = ("        <s:key name=\"eai:acl\">\n          <s:dict>\n"
               f"            <s:key name=\"app\">{escape(entry.app)}</s:key>\n"
               "            <s:key name=\"can_write\">1</s:key>\n"
               f"            <s:key name=\"owner\">{escape(entry.owner)}</s:key>\n"
               "            <s:key name=\"sharing\">app</s:key>\n"
               "          </s:dict>\n        </s:key>\n")
        return (f"  <entry>\n    <title>{escape(entry.name)}</title>\n"
                f"    <id>{self.server_uri}{escape(href)}</id>\n    <updated>{UPDATED}</updated>\n{links}"
                f"    <author>\n      <name>{escape(entry.owner)}</name>\n    </author>\n"
                f"    <content type=\"text/xml\">\n      <s:dict>\n{content}{acl}      </s:dict>\n    </content>\n"
                f"  </entry>\n")


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
        self.send_header("Content-Type", getattr(text, "content_type", "text/xml; charset=UTF-8"))
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
