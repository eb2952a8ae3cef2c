"""Checkpoint store (atomic file backend) and the sign-in cursor's exactly-once promise."""
import datetime as dt
import json
import os
import random

import pytest

from connector.checkpoint import CheckpointError, FileCheckpointStore, MemoryCheckpointStore
from connector.times import iso
from connector.graph.harvest import SigninCursor

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 28, 0, 0, tzinfo=UTC)


# ------------------------------------------------------------------------------------------ stores

def test_file_store_round_trips_and_quotes_hostile_keys(tmp_path):
    store = FileCheckpointStore(str(tmp_path / "ckpt"))
    assert store.load("../etc/passwd account.signins") is None
    store.save("../etc/passwd account.signins", {"high_water": "x", "recent": {"a": "b"}})
    assert store.load("../etc/passwd account.signins") == {"high_water": "x", "recent": {"a": "b"}}
    assert os.listdir(tmp_path / "ckpt") == ["..%2Fetc%2Fpasswd%20account.signins.json"]
    store.delete("../etc/passwd account.signins")
    assert store.load("../etc/passwd account.signins") is None
    store.delete("never-saved")


def test_file_store_leaves_the_old_document_when_a_write_fails(tmp_path, monkeypatch):
    store = FileCheckpointStore(str(tmp_path))
    store.save("acct", {"n": 1})

    def broken_replace(source, target):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.save("acct", {"n": 2})
    monkeypatch.undo()
    assert store.load("acct") == {"n": 1}
    assert [name for name in os.listdir(tmp_path) if name.startswith(".tmp-")] == []


def test_unreadable_checkpoint_is_an_error_that_names_the_file(tmp_path):
    store = FileCheckpointStore(str(tmp_path))
    (tmp_path / "acct.json").write_text("{half a docu")
    with pytest.raises(CheckpointError, match="acct.json"):
        store.load("acct")


def test_memory_store_copies_documents():
    store = MemoryCheckpointStore()
    document = {"recent": {"a": "b"}}
    store.save("k", document)
    document["recent"]["c"] = "d"
    assert store.load("k") == {"recent": {"a": "b"}}


# ----------------------------------------------------------------------------------- sign-in cursor

class Crash(Exception):
    pass


def run(store, records, now, *, page_size=7, crash_after_pages=None, lookback_hours=24, overlap_minutes=15):
    """What scan.read_signins does, against an in-memory 'Graph' of records visible at `now`."""
    cursor = SigninCursor(store.load("s"), now=now, lookback_hours=lookback_hours, overlap_minutes=overlap_minutes)
    emitted, pages = [], 0
    for lower, upper, skip in cursor.ranges():
        low, high = iso(lower), iso(upper)
        visible = sorted((r for r in records if low <= r["createdDateTime"] <= high),
                         key=lambda r: r["createdDateTime"], reverse=True)
        for start in range(0, len(visible), page_size):
            page = visible[start:start + page_size]
            emitted.extend(r["id"] for r in page if not cursor.already_read(r["id"], skip))
            cursor.page_read(lower, page, skip)
            store.save("s", cursor.to_state())
            pages += 1
            if crash_after_pages is not None and pages >= crash_after_pages:
                raise Crash(emitted)
        cursor.range_done(upper)
        store.save("s", cursor.to_state())
    return emitted


def signins(count, start, span_minutes, seed, prefix="s"):
    rng = random.Random(seed)
    out = []
    for n in range(count):
        moment = start + dt.timedelta(seconds=rng.uniform(0, span_minutes * 60))
        # whole seconds collide on purpose: many records share a second at page boundaries
        moment = moment.replace(microsecond=0) if n % 3 else moment
        out.append({"id": f"{prefix}{n}", "createdDateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"})
    return out


def test_first_run_reads_the_lookback_and_a_second_run_repeats_nothing():
    store = MemoryCheckpointStore()
    now = T0 + dt.timedelta(hours=30)
    records = signins(200, T0, 30 * 60, seed=1)
    first = run(store, records, now)
    expected = {r["id"] for r in records if r["createdDateTime"] >= iso(now - dt.timedelta(hours=24))}
    assert sorted(first) == sorted(expected) and len(first) == len(set(first))
    assert run(store, records, now + dt.timedelta(minutes=5)) == []


def test_new_and_late_arriving_signins_appear_exactly_once():
    store = MemoryCheckpointStore()
    now = T0 + dt.timedelta(hours=2)
    old = signins(100, T0 + dt.timedelta(hours=1), 60, seed=2)
    run(store, old, now)
    # created before the last run's high water but only visible now (Graph's ingestion delay)
    late = signins(10, now - dt.timedelta(minutes=8), 7, seed=3, prefix="late")
    new = signins(50, now, 30, seed=4, prefix="new")
    second = run(store, old + late + new, now + dt.timedelta(minutes=40))
    assert sorted(second) == sorted(r["id"] for r in late + new)
    state = store.load("s")
    assert len(state["recent"]) < 100 and state["gap"] is None


@pytest.mark.parametrize("crash_after", [1, 2, 5, 9])
def test_a_crash_after_any_page_loses_nothing_and_repeats_nothing(crash_after):
    store = MemoryCheckpointStore()
    now = T0 + dt.timedelta(hours=26)
    history = signins(60, T0 + dt.timedelta(hours=20), 60, seed=5, prefix="h")
    seen = run(store, history, now - dt.timedelta(hours=4))
    records = history + signins(70, now - dt.timedelta(hours=4), 240, seed=6)
    with pytest.raises(Crash) as crashed:
        run(store, records, now, crash_after_pages=crash_after)
    seen += crashed.value.args[0]
    seen += run(store, records, now + dt.timedelta(minutes=3))
    assert len(seen) == len(set(seen))
    assert set(seen) == {r["id"] for r in records}


def test_crash_while_resuming_still_converges():
    store = MemoryCheckpointStore()
    now = T0 + dt.timedelta(hours=24)
    records = signins(120, T0 + dt.timedelta(hours=1), 22 * 60, seed=7)
    seen = []
    for attempt, crash_after in enumerate((3, 2, 4, None)):
        try:
            seen += run(store, records, now + dt.timedelta(minutes=attempt), page_size=5, crash_after_pages=crash_after)
        except Crash as crashed:
            seen += crashed.args[0]
    assert sorted(seen) == sorted(r["id"] for r in records)


def test_state_stays_bounded_by_the_overlap_not_the_volume():
    store = MemoryCheckpointStore()
    now = T0 + dt.timedelta(hours=24)
    records = signins(3000, T0, 24 * 60, seed=8)
    run(store, records, now, page_size=100)
    state = store.load("s")
    in_overlap = sum(1 for r in records if r["createdDateTime"] >= iso(now - dt.timedelta(minutes=16)))
    assert len(state["recent"]) <= in_overlap + 10
    assert len(json.dumps(state)) < 20_000


def test_long_outage_catches_up_at_most_thirty_days():
    store = MemoryCheckpointStore()
    store.save("s", {"high_water": "2026-01-01T00:00:00.000000Z", "recent": {}, "gap": None})
    cursor = SigninCursor(store.load("s"), now=T0, lookback_hours=24, overlap_minutes=15)
    assert next(cursor.ranges())[0] == T0 - dt.timedelta(days=30)
