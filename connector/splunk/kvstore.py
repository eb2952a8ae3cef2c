"""Checkpoints, the response journal and the pre-change snapshots in splunkd's KV store.

Under splunkd the add-on's state lives in the KV-store collections of `default/collections.conf`, reached
through splunkd's REST API with the session key splunkd hands the script, so an input that moves to another
forwarder, or runs on another search-head-cluster member, continues from the same cursor, and a removal
repeated on another member is recognised. The file store stays for the command line.

Why not solnlib's `KVStoreCheckpointer`: it keeps each checkpoint as one document (`{"state": json}`), so a
checkpoint past the KV store's 16 MB BSON document limit cannot be saved at all, and a save cut off leaves
nothing to tell it from a good one. Here a document is cut into chunks well under the limits documented for
splunkd (16 MB per document; limits.conf `[kvstore]` `max_documents_per_batch_save` = 1000,
`max_size_per_batch_save_mb` = 50, `max_size_per_result_mb` = 50), and each checkpoint has a manifest
document written last that names the generation of chunks it belongs to, their count and their SHA-256:

1. the new generation's chunks are saved (`batch_save`, in batches under the limits);
2. the manifest is saved in one document write (atomic in the KV store): it names the new generation as
   `current` and keeps the one before as `previous`;
3. chunks of any other generation are deleted.

A save killed before step 2 leaves the old manifest and both its generations whole: the next load reads
the old position and notices the orphaned chunks (logged, removed by the next save). A current
generation found incomplete or not matching its digest (a document lost or cut) is reported and the
previous generation is read instead: at most one commit interval is repeated, nothing is lost. Small
documents are kept inline in the manifest (one write, nothing to assemble).
"""
import datetime
import hashlib
import json
import time
import uuid

from connector import APP_ID
from connector.checkpoint import CheckpointError, CheckpointStore
from connector.logs import get_logger
from connector.splunk import splunkd
from connector.times import UTC, iso

CHECKPOINTS = "ta_entra_app_secrets_checkpoints"
RESPONSE_JOURNAL = "ta_entra_app_secrets_response_journal"
SNAPSHOTS = "ta_entra_app_secrets_snapshots"
COLLECTIONS = (CHECKPOINTS, RESPONSE_JOURNAL, SNAPSHOTS)

MB = 1024 * 1024
# 4 MB chunks: a quarter of the BSON limit, eight to a batch_save (32 MB of the 50 MB allowed).
DEFAULT_CHUNK_BYTES = 4 * MB
BATCH_BYTES = 32 * MB
BATCH_DOCUMENTS = 1000          # limits.conf [kvstore] max_documents_per_batch_save
RETRY_DELAYS_S = (0.5, 1.0)     # splunkd answers 503 while the KV store starts or stops

log = get_logger("connector.splunk.kvstore")


class KVStoreCollection:
    """The data endpoints of one collection: servicesNS/nobody/<app>/storage/collections/data/<name>."""

    def __init__(self, service, name, *, server_uri=None, sleep=time.sleep):
        self.service = service
        self.name = name
        self.server_uri = server_uri
        self.sleep = sleep
        self.path = f"storage/collections/data/{name}"

    def query(self, condition, *, sort=None, skip=0, limit=0, fields=None):
        params = {"query": json.dumps(condition, separators=(",", ":"))}
        if sort:
            params["sort"] = sort
        if skip:
            params["skip"] = str(skip)
        if limit:
            params["limit"] = str(limit)
        if fields:
            params["fields"] = fields
        answer = self._call("reading", lambda: self.service.get(self.path, owner="nobody", app=APP_ID, **params))
        return json.loads(answer.body.read().decode("utf-8") or "[]")

    def batch_save(self, documents):
        body = json.dumps(documents, separators=(",", ":"))
        self._call("writing", lambda: self.service.post(
            self.path + "/batch_save", owner="nobody", app=APP_ID,
            headers=[("Content-Type", "application/json")], body=body))

    def delete(self, condition):
        self._call("deleting from", lambda: self.service.delete(
            self.path, owner="nobody", app=APP_ID, query=json.dumps(condition, separators=(",", ":"))))

    def _call(self, doing, request):
        from splunklib.binding import HTTPError

        for attempt, delay in enumerate((*RETRY_DELAYS_S, None)):
            try:
                return request()
            except HTTPError as exc:
                if exc.status == 503 and delay is not None:
                    self.sleep(delay)
                    continue
                raise CheckpointError(self._explain(exc.status, exc.reason, doing)) from None
            except OSError as exc:
                reason = exc.strerror or str(exc) or type(exc).__name__
                raise CheckpointError(f"no answer from splunkd at {self.server_uri} while {doing} KV-store "
                                      f"collection {self.name} ({reason}); check that splunkd is running") from None
        raise AssertionError("unreachable")

    def _explain(self, status, reason, doing):
        where = f"KV-store collection {self.name}"
        if status == 401:
            return (f"splunkd rejected the session key (HTTP 401) while {doing} {where}; the session expired "
                    f"or the script was not started by splunkd")
        if status == 403:
            return (f"splunkd refused {doing} {where} (HTTP 403): the role running the add-on needs read and "
                    f"write on the collection (metadata/default.meta)")
        if status == 404:
            return (f"{where} does not exist on this node (HTTP 404): the app's default/collections.conf "
                    f"declares it; check that the KV store is enabled (server.conf [kvstore] disabled = false)")
        if status == 503:
            return f"the KV store is not ready (HTTP 503) while {doing} {where}; it starts with splunkd, retry later"
        # splunkd's message text is not quoted: it could echo a document
        return f"splunkd answered HTTP {status} {reason} while {doing} {where}; see splunkd.log"


def collection(server_uri, session_key, name):
    """A KVStoreCollection for the splunkd that started us."""
    return KVStoreCollection(splunkd.connect(server_uri, session_key), name, server_uri=server_uri)


class KVStoreCheckpointStore(CheckpointStore):
    """CheckpointStore over one KV-store collection: chunked documents behind a manifest written last."""

    def __init__(self, kv_collection, *, chunk_bytes=DEFAULT_CHUNK_BYTES, batch_bytes=BATCH_BYTES):
        self.kv = kv_collection
        self.chunk_bytes = chunk_bytes
        self.batch_chunks = max(1, min(BATCH_DOCUMENTS, batch_bytes // chunk_bytes))
        self.inline_bytes = chunk_bytes // 2   # current and previous inline fit one chunk's size
        self.recoveries = []                   # (key, what happened): also logged

    # --- CheckpointStore ---------------------------------------------------------------------------
    def load(self, key):
        manifest = self._manifest(key)
        if manifest is None:
            return None
        self._notice_orphans(key, manifest)
        problems = []
        for role in ("current", "previous"):
            version = manifest.get(role)
            if not version:
                continue
            text, problem = self._assemble(key, version)
            if problem is None:
                if role == "previous":
                    self._recovered(key, f"the current generation is damaged ({problems[0]}); read the previous "
                                         f"one, saved before the last commit")
                return json.loads(text)
            problems.append(problem)
        raise CheckpointError(f"checkpoint {key} in KV-store collection {self.kv.name} is damaged "
                              f"({'; '.join(problems) or 'no generation recorded'}); reset it with "
                              f"| sendalert entra_reset_checkpoint param.account=<account> to start the input afresh")

    def save(self, key, document):
        text = json.dumps(document, sort_keys=True, separators=(",", ":"))   # ASCII: one char is one byte
        old = self._manifest(key)
        generation = uuid.uuid4().hex
        version = {"generation": generation, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                   "bytes": len(text)}
        if len(text) <= self.inline_bytes:
            version.update(chunks=0, inline=text)
        else:
            version["chunks"] = self._write_chunks(key, generation, text)
        previous = old.get("current") if old else None
        manifest = {"_key": _manifest_key(key), "kind": "manifest", "checkpoint": key, "current": version,
                    "previous": previous, "saved_at": iso(datetime.datetime.now(UTC))}
        self.kv.batch_save([manifest])   # the commit point
        keep = [v["generation"] for v in (version, previous) if v]
        try:
            self.kv.delete({"checkpoint": key, "kind": "chunk", "generation": {"$nin": keep}})
        except CheckpointError as error:
            # saved all the same: what is left over is noticed by the next load and removed by the next save
            log.warning("checkpoint.cleanup_failed", key=key, collection=self.kv.name, error=str(error))

    def delete(self, key):
        self.kv.delete({"checkpoint": key})

    def exists(self, key):
        """Whether anything (manifest or chunk) is kept under `key`, readable or not."""
        return bool(self.kv.query({"checkpoint": key}, limit=1, fields="_key"))

    # --- internals ---------------------------------------------------------------------------------
    def _manifest(self, key):
        found = self.kv.query({"_key": _manifest_key(key)})
        return found[0] if found else None

    def _write_chunks(self, key, generation, text):
        count = (len(text) + self.chunk_bytes - 1) // self.chunk_bytes
        batch = []
        for index in range(count):
            batch.append({"_key": f"c:{key}:{generation}:{index}", "kind": "chunk", "checkpoint": key,
                          "generation": generation, "index": index,
                          "data": text[index * self.chunk_bytes:(index + 1) * self.chunk_bytes]})
            if len(batch) == self.batch_chunks:
                self.kv.batch_save(batch)
                batch = []
        if batch:
            self.kv.batch_save(batch)
        return count

    def _assemble(self, key, version):
        """(text, None) when the version is whole and matches its digest, else (None, what is wrong)."""
        if version.get("chunks", 0) == 0:
            text = version.get("inline")
            if text is None:
                return None, "an inline generation without its text"
        else:
            parts = []
            while len(parts) < version["chunks"]:
                page = self.kv.query({"checkpoint": key, "kind": "chunk", "generation": version["generation"]},
                                     sort="index", skip=len(parts), limit=self.batch_chunks)
                if not page:
                    break
                for chunk in page:
                    if chunk.get("index") != len(parts):
                        return None, f"chunk {len(parts)} of {version['chunks']} is missing"
                    parts.append(chunk.get("data") or "")
            if len(parts) != version["chunks"]:
                return None, f"{len(parts)} of {version['chunks']} chunks found"
            text = "".join(parts)
        if hashlib.sha256(text.encode("utf-8")).hexdigest() != version.get("sha256"):
            return None, "its SHA-256 does not match the manifest"
        return text, None

    def _notice_orphans(self, key, manifest):
        keep = [v["generation"] for v in (manifest.get("current"), manifest.get("previous")) if v]
        orphans = self.kv.query({"checkpoint": key, "kind": "chunk", "generation": {"$nin": keep}},
                                limit=1, fields="_key,generation")
        if orphans:
            self._recovered(key, "a save was cut off before its manifest was written; kept the last complete "
                                 "checkpoint, the next save removes the unfinished chunks")

    def _recovered(self, key, what):
        self.recoveries.append((key, what))
        log.warning("checkpoint.recovered", key=key, collection=self.kv.name, what=what)


class BestEffortStore(CheckpointStore):
    """For the health event of a run that cannot start: splunkd may be what is down, so a store that
    cannot answer reads as empty and is not written; the event still says what to fix."""

    def __init__(self, store):
        self.store = store

    def load(self, key):
        try:
            return self.store.load(key)
        except CheckpointError:
            return None

    def save(self, key, document):
        try:
            self.store.save(key, document)
        except CheckpointError as error:
            log.warning("checkpoint.not_saved", key=key, error=str(error))

    def delete(self, key):
        try:
            self.store.delete(key)
        except CheckpointError as error:
            log.warning("checkpoint.not_deleted", key=key, error=str(error))


def _manifest_key(key):
    return f"m:{key}"


def checkpoint_store(server_uri, session_key, name=CHECKPOINTS, **options):
    """The KV-store CheckpointStore for one collection of the splunkd that started us."""
    return KVStoreCheckpointStore(collection(server_uri, session_key, name), **options)

