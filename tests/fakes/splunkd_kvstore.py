"""The KV store and the caller's identity, as splunkd's REST API serves them (wired into FakeSplunkd).

Answered the way splunkd documents them (REST API Reference, "KV store endpoints" and "Access endpoints"):

- `GET  .../storage/collections/config[/<collection>]?output_mode=json`: the collections an app declares
  in `default/collections.conf` (read from the file, so a name the code uses and the conf does not
  declare fails here as it would on a Splunk server); 404 for an unknown collection
- `GET  .../storage/collections/data/<collection>` with `query` (a JSON object, MongoDB-style: equality,
  `$ne`, `$in`, `$nin`, `$gt`, `$gte`, `$lt`, `$lte`, `$and`, `$or`), `sort` (`field[:1|:-1]`, comma
  separated), `skip`, `limit`: a JSON array of documents, each with `_key` and `_user`
- `POST .../data/<collection>` (JSON object): 201 `{"_key": ...}`; 409 when that `_key` exists
- `POST .../data/<collection>/batch_save` (JSON array): insert or replace each, 200 and the list of keys
- `GET | POST | DELETE .../data/<collection>/<_key>`: the document, replace it, delete it; 404 when absent
- `DELETE .../data/<collection>[?query=...]`: every matching document (all without a query)
- `GET  .../authentication/current-context?output_mode=json`: the session's user, roles and capabilities
- `GET  .../authentication/users/<name>?output_mode=json`: that user's roles and (inherited) capabilities;
  another user's entry only for a caller holding `edit_user` (as splunkd answers it: 403 otherwise)

Data endpoints need `Content-Type: application/json` on a body (splunkd refuses a form body) and answer
JSON whatever `output_mode` says; their errors are `{"messages": [{"type": "ERROR", "text": ...}]}`.
limits.conf `[kvstore]` defaults are enforced (`max_documents_per_batch_save` 1000,
`max_size_per_batch_save_mb` 50, `max_rows_per_query` 50000, `max_size_per_result_mb` 50) and the
16 MB BSON document limit; tests may lower them (bytes) to exercise chunking with small documents.
Test controls: `login_as(user, roles, capabilities)`, `fail_writes_after(n)` (a process killed mid-write:
the n+1th write and every later one answer 503 until `heal()`), `documents(collection)`, `put`, `remove`.
"""
import configparser
import copy
import json
import os
import threading
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
APP_ID = "TA-entra-app-secrets"
MB = 1024 * 1024
ADMIN_CAPABILITIES = ("admin_all_objects", "edit_user", "list_storage_passwords", "entra_app_secrets_respond",
                      "entra_app_secrets_reset_checkpoint", "search", "schedule_search")


class JsonAnswer(str):
    """A JSON body: FakeSplunkd's handler sends it as application/json."""
    content_type = "application/json; charset=UTF-8"


def _error(status, text):
    return status, JsonAnswer(json.dumps({"messages": [{"type": "ERROR", "text": text}]}))


def _json(status, value):
    return status, JsonAnswer(json.dumps(value))


def declared_collections(app_dir):
    """Collection names from an app's default/collections.conf (empty when the app declares none)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    path = os.path.join(app_dir, "default", "collections.conf")
    if os.path.exists(path):
        parser.read(path, encoding="utf-8")
    return {name: dict(parser[name]) for name in parser.sections()}


class FakeKVStore:
    def __init__(self, apps=None):
        # app -> {collection: {"config": {...}, "documents": {_key: doc}}}
        self.apps = {}
        for app, app_dir in (apps or {APP_ID: REPO}).items():
            self.apps[app] = {name: {"config": config, "documents": {}}
                              for name, config in declared_collections(app_dir).items()}
        self.max_batch_documents = 1000
        self.max_batch_bytes = 50 * MB
        self.max_document_bytes = 16 * MB
        self.max_rows_per_query = 50000
        self.max_result_bytes = 50 * MB
        self.user = {"username": "admin", "roles": ["admin"], "capabilities": list(ADMIN_CAPABILITIES)}
        self.other_users = {}
        self._writes_left = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------- controls
    def login_as(self, username, roles=("user",), capabilities=("search",)):
        """From now on the session key belongs to `username` with these roles and capabilities."""
        self.user = {"username": username, "roles": list(roles), "capabilities": list(capabilities)}

    def add_user(self, username, roles=("user",), capabilities=("search",)):
        self.other_users[username] = {"username": username, "roles": list(roles), "capabilities": list(capabilities)}

    def fail_writes_after(self, count):
        with self._lock:
            self._writes_left = count

    def heal(self):
        with self._lock:
            self._writes_left = None

    def documents(self, collection, app=APP_ID):
        with self._lock:
            return copy.deepcopy(list(self.apps[app][collection]["documents"].values()))

    def put(self, collection, document, app=APP_ID):
        with self._lock:
            self.apps[app][collection]["documents"][document["_key"]] = {**copy.deepcopy(document), "_user": "nobody"}

    def remove(self, collection, key, app=APP_ID):
        with self._lock:
            del self.apps[app][collection]["documents"][key]

    # ------------------------------------------------------------------------------- protocol
    def answers(self, rest):
        return rest[:2] in (["storage", "collections"], ["authentication", "current-context"]) or \
            rest[:2] == ["authentication", "users"]

    def answer(self, method, app, rest, query, headers, body):
        if rest[0] == "authentication":
            return self._authentication(method, rest, query)
        if app is None or app not in self.apps:
            return _error(404, f"Could not find app={app}")
        if rest[2:3] == ["config"]:
            return self._config(method, app, rest[3:], query)
        if rest[2:3] == ["data"] and len(rest) >= 4:
            return self._data(method, app, rest[3], rest[4:], query, headers, body)
        return _error(404, "Not Found")

    def _authentication(self, method, rest, query):
        if method != "GET":
            return _error(405, f"Method {method} not allowed here")
        if rest[1] == "current-context":
            return self._feed("current-context", [("username", self.user)])
        if len(rest) != 3:
            return _error(404, "Not Found")
        name = rest[2]
        if name == self.user["username"]:
            return self._feed("users", [(name, self.user)])
        if "edit_user" not in self.user["capabilities"]:
            return _error(403, f"You (user={self.user['username']}) with roles={self.user['roles']} cannot "
                               f"perform this action, it requires capability: edit_user")
        if name not in self.other_users:
            return _error(404, f"Could not find object id={name}")
        return self._feed("users", [(name, self.other_users[name])])

    def _feed(self, title, entries):
        return _json(200, {
            "links": {}, "origin": f"/services/authentication/{title}", "updated": "2026-01-01T00:00:00+00:00",
            "generator": {"build": "fake", "version": "9.2.0"},
            "entry": [{"name": name, "id": f"/services/authentication/{title}/{name}",
                       "updated": "2026-01-01T00:00:00+00:00", "links": {}, "author": "system",
                       "acl": {"app": "", "owner": "system", "sharing": "system", "can_write": True},
                       "content": {"username": user["username"], "realname": "", "email": "",
                                   "roles": list(user["roles"]), "capabilities": sorted(user["capabilities"]),
                                   "defaultApp": "search", "type": "Splunk", "tz": ""}}
                      for name, user in entries],
            "paging": {"total": len(entries), "perPage": 30, "offset": 0}, "messages": []})

    def _config(self, method, app, rest, query):
        if method != "GET":
            return _error(405, f"Method {method} not allowed here")
        collections = self.apps[app]
        names = sorted(collections) if not rest else rest[:1]
        if rest and rest[0] not in collections:
            return _error(404, f"Could not find object id={rest[0]}")
        entries = [{"name": name, "id": f"/servicesNS/nobody/{app}/storage/collections/config/{name}",
                    "author": "nobody", "acl": {"app": app, "owner": "nobody", "sharing": "app"},
                    "content": {"disabled": False, **collections[name]["config"]}} for name in names]
        return _json(200, {"entry": entries, "paging": {"total": len(entries), "perPage": 30, "offset": 0},
                           "messages": []})

    def _data(self, method, app, collection, rest, query, headers, body):
        if collection not in self.apps[app]:
            return _error(404, f"Collection: {collection} does not exist")
        store = self.apps[app][collection]["documents"]
        if method in ("POST", "DELETE") and not self._may_write():
            return _error(503, "KV Store is shutting down")
        if method == "POST":
            if "application/json" not in (headers.get("Content-Type") or ""):
                return _error(400, "Content-Type must be application/json")
            try:
                payload = json.loads(body.decode("utf-8"))
            except ValueError:
                return _error(400, "Invalid JSON")
        if rest == ["batch_save"] and method == "POST":
            return self._batch_save(store, payload)
        if len(rest) > 1:
            return _error(404, "Not Found")
        key = rest[0] if rest else None
        with self._lock:
            if method == "GET" and key is None:
                return self._query(store, query)
            if method == "GET":
                return (_json(200, copy.deepcopy(store[key])) if key in store
                        else _error(404, "Could not find object."))
            if method == "DELETE" and key is None:
                condition = self._condition(query)
                if isinstance(condition, tuple):
                    return condition
                for doomed in [k for k, doc in store.items() if _matches(doc, condition)]:
                    del store[doomed]
                return 200, JsonAnswer("")
            if method == "DELETE":
                if key not in store:
                    return _error(404, "Could not find object.")
                del store[key]
                return 200, JsonAnswer("")
            if method == "POST":
                if not isinstance(payload, dict):
                    return _error(400, "Document must be a JSON object")
                too_big = self._too_big(payload)
                if too_big:
                    return too_big
                if key is None:
                    key = payload.get("_key") or uuid.uuid4().hex[:24]
                    if key in store:
                        return _error(409, "A document with the same key and user already exists.")
                    store[key] = {**payload, "_key": key, "_user": "nobody"}
                    return _json(201, {"_key": key})
                if key not in store:
                    return _error(404, "Could not find object.")
                store[key] = {**payload, "_key": key, "_user": "nobody"}
                return _json(200, {"_key": key})
        return _error(405, f"Method {method} not allowed here")

    def _may_write(self):
        with self._lock:
            if self._writes_left is None:
                return True
            if self._writes_left <= 0:
                return False
            self._writes_left -= 1
            return True

    def _too_big(self, document):
        if len(json.dumps(document).encode("utf-8")) > self.max_document_bytes:
            return _error(400, f"Document size exceeds the maximum BSON document size "
                               f"({self.max_document_bytes} bytes)")
        return None

    def _batch_save(self, store, documents):
        if not isinstance(documents, list):
            return _error(400, "batch_save expects a JSON array of documents")
        if len(documents) > self.max_batch_documents:
            return _error(400, "Request exceeds API limits - see limits.conf for details. (Too many documents "
                               f"for a single batch save, max_documents_per_batch_save={self.max_batch_documents})")
        if len(json.dumps(documents).encode("utf-8")) > self.max_batch_bytes:
            return _error(400, "Request exceeds API limits - see limits.conf for details. (Data size limit "
                               "exceeded, max_size_per_batch_save_mb)")
        for document in documents:
            too_big = self._too_big(document) if isinstance(document, dict) else _error(400, "Invalid document")
            if too_big:
                return too_big
        keys = []
        with self._lock:
            for document in documents:
                key = document.get("_key") or uuid.uuid4().hex[:24]
                store[key] = {**copy.deepcopy(document), "_key": key, "_user": "nobody"}
                keys.append(key)
        return _json(200, keys)

    def _condition(self, query):
        text = (query.get("query") or [""])[0]
        if not text:
            return {}
        try:
            condition = json.loads(text)
        except ValueError:
            return _error(400, "Invalid query: not JSON")
        if not isinstance(condition, dict):
            return _error(400, "Invalid query: must be a JSON object")
        return condition

    def _query(self, store, query):
        condition = self._condition(query)
        if isinstance(condition, tuple):
            return condition
        found = [copy.deepcopy(doc) for doc in store.values() if _matches(doc, condition)]
        for spec in reversed([s for s in (query.get("sort") or [""])[0].split(",") if s]):
            name, _, direction = spec.partition(":")
            found.sort(key=lambda doc: _sort_key(doc.get(name)), reverse=direction.strip() == "-1")
        skip = int((query.get("skip") or ["0"])[0] or 0)
        limit = int((query.get("limit") or ["0"])[0] or 0) or self.max_rows_per_query
        found = found[skip:skip + min(limit, self.max_rows_per_query)]
        fields = [f for f in (query.get("fields") or [""])[0].split(",") if f]
        if fields:
            found = [{name: doc[name] for name in ("_key", *fields) if name in doc} for doc in found]
        if len(json.dumps(found).encode("utf-8")) > self.max_result_bytes:
            return _error(400, "Request exceeds API limits - see limits.conf for details. (Result size limit "
                               "exceeded, max_size_per_result_mb)")
        return _json(200, found)


def _sort_key(value):
    return (value is None, str(type(value)), value if value is not None else 0)


def _matches(document, condition):
    for name, expected in condition.items():
        if name == "$and":
            if not all(_matches(document, part) for part in expected):
                return False
        elif name == "$or":
            if not any(_matches(document, part) for part in expected):
                return False
        elif isinstance(expected, dict):
            value = document.get(name)
            for operator, operand in expected.items():
                if not _compare(operator, value, operand):
                    return False
        elif document.get(name) != expected:
            return False
    return True


def _compare(operator, value, operand):
    if operator == "$ne":
        return value != operand
    if operator == "$in":
        return value in operand
    if operator == "$nin":
        return value not in operand
    if value is None:
        return False
    try:
        return {"$gt": value > operand, "$gte": value >= operand, "$lt": value < operand,
                "$lte": value <= operand}[operator]
    except TypeError:
        return False
    except KeyError:
        raise ValueError(f"unsupported query operator {operator}") from None
