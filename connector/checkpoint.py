"""Checkpoints behind one small interface, with an atomic file backend.

A checkpoint is a JSON document under a key (one per account and purpose). The interface is three
methods so a KV-store backend can follow for inputs that move between forwarders. The file backend
writes a temporary file in the same folder, fsyncs it and renames it over the old one: a crash leaves
either the old document or the new one, never half of each.
"""
import json
import os
import tempfile
import urllib.parse

from connector.errors import AddonError


class CheckpointError(AddonError):
    """A checkpoint that exists but cannot be read: say which, do not silently start over."""


class CheckpointStore:
    """load(key) -> dict | None; save(key, document); delete(key)."""

    def load(self, key):
        raise NotImplementedError

    def save(self, key, document):
        raise NotImplementedError

    def delete(self, key):
        raise NotImplementedError


class MemoryCheckpointStore(CheckpointStore):
    """For tests and the demo: same semantics, documents copied through JSON like the file store."""

    def __init__(self):
        self._documents = {}

    def load(self, key):
        text = self._documents.get(key)
        return None if text is None else json.loads(text)

    def save(self, key, document):
        self._documents[key] = json.dumps(document, sort_keys=True)

    def delete(self, key):
        self._documents.pop(key, None)


class FileCheckpointStore(CheckpointStore):
    def __init__(self, directory):
        self.directory = directory

    def path(self, key):
        # Account names come from a .conf stanza and may hold anything; quote them into a safe file name.
        return os.path.join(self.directory, urllib.parse.quote(key, safe="") + ".json")

    def load(self, key):
        try:
            with open(self.path(key), encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"checkpoint {self.path(key)} cannot be read ({type(exc).__name__}); "
                                  f"move it aside to start the input afresh") from None

    def save(self, key, document):
        os.makedirs(self.directory, exist_ok=True)
        target = self.path(key)
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.directory)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(document, stream, sort_keys=True, separators=(",", ":"))
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
            raise

    def delete(self, key):
        try:
            os.unlink(self.path(key))
        except FileNotFoundError:
            pass
