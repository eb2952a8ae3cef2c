"""The fake splunkd's conf endpoints, as splunkd documents them and solnlib/splunklib call them.

- `GET  properties/<file>`: 200 and a feed of the file's stanzas; 404 when no layer has the file (splunklib
  turns it into KeyError, solnlib into "Config file: <file> does not exist.")
- `GET  properties/<file>/<stanza>`: a feed with one entry per key; 404 for an unknown stanza
- `POST properties` (`__conf=<file>`): 201 creates the file, 303 when it exists
- `GET  configs/conf-<file>`: every stanza with its keys (the file's [default] keys filled in, [default]
  itself not listed), `count`/`offset`/`search` honoured; an unknown file is an empty feed
- `GET  configs/conf-<file>/<stanza>`: one entry; 404 `Could not find object id=<stanza>`
- `POST configs/conf-<file>` (`name=<stanza>`, keys): 201 and the new entry, creating the file if need be;
  409 `An object with name=<stanza> already exists`
- `POST configs/conf-<file>/<stanza>` (keys): 200 and the updated entry; 404 for an unknown stanza
- `DELETE configs/conf-<file>/<stanza>`: 200 and the remaining stanzas; 404 for an unknown stanza

Entries carry the keys plus `disabled`, `eai:appName`, `eai:userName` and the `eai:acl` block, in Atom
(`<s:dict>`) or, with `output_mode=json`, JSON. Two layers per app as splunkd layers them: `default`
(what the app ships, loaded with `load_default`) and `local` (what REST writes: kept in memory, never a
folder on disk). Writes need `admin_all_objects` (FakeSplunkd.deny makes them 403).
"""
import os
import threading

from fakes.splunkd import FeedEntry, _error, _searched, render_feed

WRITE_CAPABILITY = "admin_all_objects"


class ConfStore:
    def __init__(self, fake):
        self.fake = fake
        self._layers = {}           # (app, layer, file) -> {stanza: {key: value}}
        self._lock = threading.Lock()
        fake.endpoint("properties")(self.properties)
        fake.endpoint("configs")(self.configs)

    # ----------------------------------------------------------------------------- test controls

    def load_default(self, app, folder):
        """The app's shipped default/*.conf, parsed by Splunk's rules (splunkd reads its own files)."""
        from connector.conf_files import parse_conf_text

        for name in sorted(os.listdir(folder)):
            if name.endswith(".conf"):
                with open(os.path.join(folder, name), encoding="utf-8") as handle:
                    parsed = parse_conf_text(handle.read())
                if not parsed.get("default"):
                    parsed.pop("default", None)
                with self._lock:
                    self._layers[(app, "default", name[:-5])] = parsed

    def put(self, app, file, stanza, values, layer="local"):
        """Set keys directly, as an admin's earlier save would have left them."""
        with self._lock:
            self._layers.setdefault((app, layer, file), {}).setdefault(stanza, {}).update(values)

    def local(self, app, file):
        """{stanza: {key: value}} written through REST (the local layer)."""
        with self._lock:
            return {stanza: dict(values) for stanza, values in self._layers.get((app, "local", file), {}).items()}

    # ----------------------------------------------------------------------------------- layers

    def _exists(self, app, file):
        return any((app, layer, file) in self._layers for layer in ("default", "local"))

    def _merged(self, app, file):
        """{stanza: (values, owning app)} with local over default key by key and [default] filled in."""
        with self._lock:
            merged = {}
            for layer in ("default", "local"):
                for stanza, values in self._layers.get((app, layer, file), {}).items():
                    merged.setdefault(stanza, {}).update(values)
        defaults = merged.pop("default", {})
        return {stanza: {**defaults, **values} for stanza, values in merged.items()}

    def _entries(self, app, file, stanzas, owner="nobody"):
        return [FeedEntry(name, owner, app, {**values, "disabled": values.get("disabled", "0") in ("1", "true"),
                                             "eai:appName": app, "eai:userName": owner})
                for name, values in stanzas.items()]

    # ----------------------------------------------------------------------------- configs/conf-*

    def configs(self, request):
        if not request.rest or not request.rest[0].startswith("conf-") or len(request.rest) > 2:
            return _error(404, "ERROR", f"Not Found: configs/{'/'.join(request.rest)}", request.query)
        app = request.app or "search"
        file = request.rest[0][len("conf-"):]
        stanza = request.rest[1] if len(request.rest) == 2 else None
        base = f"/servicesNS/nobody/{app}/configs/conf-{file}"
        if request.method != "GET" and WRITE_CAPABILITY in self.fake.denied:
            return self.fake._refused(WRITE_CAPABILITY, request.query)
        if request.method == "GET":
            stanzas = self._merged(app, file)
            if stanza is not None:
                if stanza not in stanzas:
                    return _error(404, "ERROR", f"Could not find object id={stanza}", request.query)
                stanzas = {stanza: stanzas[stanza]}
            entries = _searched(self._entries(app, file, stanzas), request.query,
                                lambda e: {"name": e.name, **{k: v for k, v in e.content.items()}})
            entries = _paged(entries, request.query)
            return 200, render_feed(self.fake.server_uri, base, f"conf-{file}", entries, request.query)
        values = {key: items[-1] for key, items in request.form.items() if key != "name"}
        if request.method == "POST" and stanza is None:
            return self._create(app, file, base, request, values)
        if request.method == "POST":
            return self._update(app, file, base, stanza, request, values)
        if request.method == "DELETE" and stanza is not None:
            return self._delete(app, file, base, stanza, request)
        return _error(405, "ERROR", f"Method {request.method} not allowed here", request.query)

    def _create(self, app, file, base, request, values):
        name = (request.form.get("name") or [""])[0]
        if not name:
            return _error(400, "ERROR", "Argument \"name\" is not supported by this handler.", request.query)
        if name in self._merged(app, file):
            return _error(409, "ERROR", f"An object with name={name} already exists", request.query)
        self.put(app, file, name, values)
        return 201, render_feed(self.fake.server_uri, base, f"conf-{file}",
                                self._entries(app, file, {name: self._merged(app, file)[name]}), request.query)

    def _update(self, app, file, base, stanza, request, values):
        if stanza not in self._merged(app, file):
            return _error(404, "ERROR", f"Could not find object id={stanza}", request.query)
        self.put(app, file, stanza, values)
        return 200, render_feed(self.fake.server_uri, base, f"conf-{file}",
                                self._entries(app, file, {stanza: self._merged(app, file)[stanza]}), request.query)

    def _delete(self, app, file, base, stanza, request):
        with self._lock:
            local = self._layers.get((app, "local", file), {})
            shipped = self._layers.get((app, "default", file), {})
            if stanza not in local and stanza not in shipped:
                return _error(404, "ERROR", f"Could not find object id={stanza}", request.query)
            local.pop(stanza, None)
        return 200, render_feed(self.fake.server_uri, base, f"conf-{file}",
                                self._entries(app, file, self._merged(app, file)), request.query)

    # -------------------------------------------------------------------------------- properties

    def properties(self, request):
        app = request.app or "search"
        base = f"/servicesNS/nobody/{app}/properties"
        rest = request.rest
        if request.method == "POST" and not rest:
            if WRITE_CAPABILITY in self.fake.denied:
                return self.fake._refused(WRITE_CAPABILITY, request.query)
            file = (request.form.get("__conf") or [""])[0]
            if not file:
                return _error(400, "ERROR", "Missing required argument: __conf", request.query)
            if self._exists(app, file):
                return 303, render_feed(self.fake.server_uri, base, "properties", [], request.query)
            with self._lock:
                self._layers[(app, "local", file)] = {}
            return 201, render_feed(self.fake.server_uri, base, "properties", [], request.query)
        if request.method != "GET" or len(rest) > 2:
            return _error(405, "ERROR", f"Method {request.method} not allowed here", request.query)
        if not rest:
            with self._lock:
                files = sorted({file for (a, _, file) in self._layers if a == app})
            entries = [FeedEntry(file, "nobody", app, {}) for file in files]
            return 200, render_feed(self.fake.server_uri, base, "properties", entries, request.query)
        file = rest[0]
        if not self._exists(app, file):
            return _error(404, "ERROR", f"Could not find object id={file}", request.query)
        stanzas = self._merged(app, file)
        if len(rest) == 1:
            entries = [FeedEntry(name, "nobody", app, {}) for name in stanzas]
            return 200, render_feed(self.fake.server_uri, f"{base}/{file}", file, entries, request.query)
        if rest[1] not in stanzas:
            return _error(404, "ERROR", f"Could not find object id={rest[1]}", request.query)
        entries = [FeedEntry(key, "nobody", app, {"$text": value}) for key, value in stanzas[rest[1]].items()]
        return 200, render_feed(self.fake.server_uri, f"{base}/{file}/{rest[1]}", rest[1], entries, request.query)


def _paged(entries, query):
    try:
        offset = int((query.get("offset") or ["0"])[0])
        count = int((query.get("count") or ["30"])[0])
    except ValueError:
        return entries
    return entries[offset:] if count in (-1, 0) else entries[offset:offset + count]


def save_like_ucc(fake, conf_name, stanza, fields, encrypted, app="TA-entra-app-secrets"):
    """Save a stanza the way UCC's generated REST handler does: solnlib's ConfFile.update with the
    encrypted field names, realm __REST_CREDENTIAL__#<app>#configs/conf-<conf> (through the fake's REST API)."""
    from urllib.parse import urlsplit

    from solnlib.conf_manager import ConfManager
    from solnlib.soln_exceptions import ConfManagerException

    parts = urlsplit(fake.server_uri)
    manager = ConfManager(fake.session_key, app, realm=f"__REST_CREDENTIAL__#{app}#configs/conf-{conf_name}",
                          scheme="https", host=parts.hostname, port=parts.port)
    try:
        conf = manager.get_conf(conf_name)
    except ConfManagerException:  # no such file yet
        conf = manager.create_conf(conf_name)
    conf.update(stanza, dict(fields), [key for key in encrypted if key in fields])
