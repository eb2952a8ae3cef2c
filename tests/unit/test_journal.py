"""The removal journal and the pre-change snapshots around a response action's Graph call."""
import json

from connector.checkpoint import CheckpointError, MemoryCheckpointStore
from connector.respond import actions
from test_actions import APP_OBJECT, KEY_ON_APP, NOW, SETTINGS, SP_OBJECT, TENANT, MemoryGraph, remove, target


class UnwritableStore(MemoryCheckpointStore):
    def save(self, key, document):
        raise CheckpointError("splunkd refused writing KV-store collection x (HTTP 403)")


def test_the_snapshot_is_kept_before_the_change_and_marked_after_it():
    graph, snapshots = MemoryGraph(), MemoryCheckpointStore()
    seen_before_the_call = []
    post = graph.post

    def watching_post(path, body, api="v1.0"):
        seen_before_the_call.extend(json.loads(text)["state"] for text in snapshots._documents.values())
        return post(path, body, api)

    graph.post = watching_post
    outcome = remove(graph, actions.Journal(MemoryCheckpointStore(), snapshots))
    assert outcome.outcome == actions.CHANGED
    assert seen_before_the_call == ["pending"], "a run killed after the Graph call still leaves the record"
    [key] = snapshots._documents
    assert key.startswith(f"entra_remove_secret:{TENANT}:{APP_OBJECT}:{KEY_ON_APP}:2026-11-28T12:00:00")
    kept = snapshots.load(key)
    assert kept["state"] == "changed" and KEY_ON_APP in [c["keyId"] for c in kept["snapshot"]["password_credentials"]]


def test_a_snapshot_that_cannot_be_kept_stops_the_change():
    graph = MemoryGraph()
    outcome = remove(graph, actions.Journal(MemoryCheckpointStore(), UnwritableStore()))
    assert outcome.outcome == actions.ERROR and "HTTP 403" in outcome.message and graph.writes == []


def test_a_journal_that_cannot_be_written_after_the_change_still_reports_it_changed():
    graph = MemoryGraph()
    outcome = remove(graph, actions.Journal(UnwritableStore(), MemoryCheckpointStore()))
    assert outcome.outcome == actions.CHANGED and len(graph.writes) == 1
    assert "the change is made but its record could not be kept" in outcome.message


def test_disable_keeps_a_snapshot_of_account_enabled():
    graph, snapshots = MemoryGraph(), MemoryCheckpointStore()
    sp_target = actions.Target.from_fields({"tenant_id": TENANT, "app_id": target().app_id,
                                            "object_type": "servicePrincipal", "object_id": SP_OBJECT},
                                           actions.DISABLE_APP)
    outcome = actions.run_action(actions.DISABLE_APP, graph, sp_target, SETTINGS, journal=actions.Journal(None, snapshots), now=NOW, tenant_id=TENANT)
    assert outcome.outcome == actions.CHANGED
    [kept] = [snapshots.load(k) for k in snapshots._documents]
    assert (kept["state"], kept["snapshot"]["account_enabled"], kept["action"]) == ("changed", True,
                                                                                    "entra_disable_app")
