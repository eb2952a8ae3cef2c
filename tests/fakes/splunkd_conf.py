"""splunkd's `configs/conf-<file>` endpoints (JSON, `output_mode=json`) on top of tests/fakes/splunkd.py,
for the UCC REST handlers (splunktaucclib's RestHandler through solnlib's SplunkRestClient).

The ucc branch's own module, until the splunkd-config branch's conf endpoints land in FakeSplunkd (the
contract gives that file to them); the lead can drop this subclass then. It answers as splunkd documents
configs/conf-{file} (REST API reference, "Configuration endpoints"):

- `GET  .../configs/conf-<file>`: `{"entry": [...], "paging": {...}, "messages": []}`, stanzas sorted by name
- `GET  .../configs/conf-<file>/<stanza>`: one entry; 404 `Could not find object id=<stanza>`
- `POST .../configs/conf-<file>` form `name` + keys: 201 and the new entry; 409 when it exists;
  400 `Missing required fields: name` without a name
- `POST .../configs/conf-<file>/<stanza>` keys: 200, keys merged into the stanza; 404 when absent
- `DELETE .../configs/conf-<file>/<stanza>`: 200 and the remaining entries; 404 when absent
- `GET  .../configs/conf-<file>/_reload`: 200
- and, for storage/passwords (which FakeSplunkd serves): `POST .../storage/passwords/<realm>:<user>:` with
  `password` changes an entry (solnlib updates a chunk that way after a 409 on create), and an entry name
  holding a `/` (UCC's realm `...#configs/conf-...`) is one name, not more path segments

An entry is `{"name", "id", "updated", "links", "author", "acl", "content"}`; content holds the stanza's
keys (strings), `disabled` (false) and `eai:acl` / `eai:appName` / `eai:userName`. Errors are
`{"messages": [{"type": "ERROR", "text": ...}]}`. Every write needs `admin_all_objects`, reads need none
(deny() as in FakeSplunkd). Stanzas are kept in memory per (app, file): nothing is written to disk, so
there is no local/ folder.
"""
import json
from urllib.parse import parse_qs

from tests.fakes.splunkd import FakeSplunkd, UPDATED, WRITE_CAPABILITY, _messages

PERMS = {"read": ["*"], "write": ["admin", "sc_admin"]}


class FakeSplunkdWithConf(FakeSplunkd):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._confs = {}   # (app, file) -> {stanza: {key: value}}

    def conf(self, app, file):
        """{stanza: {key: value}} as stored (what local/<file>.conf would hold)."""
        with self._lock:
            return {name: dict(keys) for name, keys in self._confs.get((app, file), {}).items()}

    def _answer(self, method, segments, query, headers, body):
        rest = segments[3:] if segments[:1] == ["servicesNS"] and len(segments) >= 3 else None
        if rest is not None and rest[:2] == ["storage", "passwords"] and len(rest) > 2:
            # an entry name holds the realm, and UCC's realm holds a "/" (configs/conf-...): one segment
            segments = segments[:5] + ["/".join(rest[2:])]
            if method == "POST":
                return self._update_password(segments, headers, body)
        if rest is None or len(rest) < 2 or rest[0] != "configs" or not rest[1].startswith("conf-"):
            return super()._answer(method, segments, query, headers, body)
        if headers.get("Authorization") != f"Splunk {self.session_key}":
            return 401, _error("call not properly authenticated")
        owner, app, file = segments[1], segments[2], rest[1][len("conf-"):]
        name = rest[2] if len(rest) > 2 else None
        if len(rest) > 3:
            return 404, _error(f"Not Found: /{'/'.join(segments)}")
        if method != "GET" and WRITE_CAPABILITY in self.denied:
            return 403, _error(f"You (user=admin) with roles=[limited] cannot perform this action, it requires "
                               f"capability: {WRITE_CAPABILITY}")
        form = {key: values[-1] for key, values in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        form.pop("output_mode", None)
        with self._lock:
            stanzas = self._confs.setdefault((app, file), {})
            if method == "GET" and name == "_reload":
                return 200, self._conf_json(owner, app, file, [])
            if method == "GET":
                if name is None:
                    return 200, self._conf_json(owner, app, file, sorted(stanzas.items()))
                if name not in stanzas:
                    return 404, _error(f"Could not find object id={name}")
                return 200, self._conf_json(owner, app, file, [(name, stanzas[name])])
            if method == "POST" and name is None:
                new = form.pop("name", "")
                if not new:
                    return 400, _error("Missing required fields: name")
                if new in stanzas:
                    return 409, _error(f"An object with name={new} already exists")
                stanzas[new] = form
                return 201, self._conf_json(owner, app, file, [(new, form)])
            if method == "POST":
                if name not in stanzas:
                    return 404, _error(f"Could not find object id={name}")
                stanzas[name].update(form)
                return 200, self._conf_json(owner, app, file, [(name, stanzas[name])])
            if method == "DELETE" and name is not None:
                if stanzas.pop(name, None) is None:
                    return 404, _error(f"Could not find object id={name}")
                return 200, self._conf_json(owner, app, file, sorted(stanzas.items()))
        return 405, _error(f"Method {method} not allowed here")

    def _update_password(self, segments, headers, body):
        """POST storage/passwords/<realm>:<user>: (form `password`): splunkd changes the clear password,
        as solnlib's CredentialManager does after a 409 on create."""
        if headers.get("Authorization") != f"Splunk {self.session_key}":
            return 401, _messages("WARN", "call not properly authenticated")
        if WRITE_CAPABILITY in self.denied:
            return 403, _messages("ERROR", f"You (user=admin) with roles=[limited] cannot perform this action, it "
                                           f"requires capability: {WRITE_CAPABILITY}")
        app, name = segments[2], segments[5]
        password = (parse_qs(body.decode("utf-8"), keep_blank_values=True).get("password") or [""])[0]
        if not password:
            return 400, _messages("ERROR", "Missing required fields: password")
        with self._lock:
            entry = next((entry for entry in self._passwords.values() if entry.app == app and entry.name == name), None)
            if entry is None:
                return 404, _messages("ERROR", f"Could not find object id={name}")
            entry.clear_password = password
        return 200, self._feed(app, [entry])

    def _conf_json(self, owner, app, file, entries):
        base = f"/servicesNS/{owner}/{app}/configs/conf-{file}"
        return json.dumps({
            "links": {"create": f"{base}/_new", "_reload": f"{base}/_reload"},
            "origin": f"{self.server_uri}{base}", "updated": UPDATED,
            "generator": {"build": "fake", "version": "9.2.0"},
            "entry": [self._conf_entry(base, app, name, keys) for name, keys in entries],
            "paging": {"total": len(entries), "perPage": 30, "offset": 0}, "messages": []})

    def _conf_entry(self, base, app, name, keys):
        acl = {"app": app, "can_change_perms": True, "can_list": True, "can_share_app": True,
               "can_share_global": True, "can_share_user": False, "can_write": True, "modifiable": True,
               "owner": "nobody", "perms": PERMS, "removable": True, "sharing": "app"}
        href = f"{base}/{name}"
        return {"name": name, "id": f"{self.server_uri}{href}", "updated": UPDATED,
                "links": {"alternate": href, "list": href, "_reload": f"{href}/_reload", "edit": href,
                          "remove": href, "move": f"{href}/move", "disable": f"{href}/disable"},
                "author": "nobody", "acl": acl,
                "content": {**keys, "disabled": False, "eai:acl": None, "eai:appName": app, "eai:userName": "nobody"}}


def _error(text):
    return json.dumps({"messages": [{"type": "ERROR", "text": text}]})
