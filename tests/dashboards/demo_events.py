"""The events the dashboards are rendered with: the add-on's own scan of the simulator's demo tenant
and its response actions against it, made by tests/samples/make_samples.py's generators (the same
code path as the committed samples, every event kept), then seen through the app's search-time
settings (props, eventtypes, tags) as Splunk would show them to a search.
"""
from __future__ import annotations

import importlib.util
import tempfile
from datetime import datetime
from pathlib import Path

from knowledge.samples import read_stash
from knowledge.search_time import SearchTime
from knowledge.splunk_conf import read_conf

MAKE_SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "make_samples.py"
INDEX = "main"      # what the modular input writes to unless an admin picks another index


def _make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", MAKE_SAMPLES)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate_hec_events() -> list[dict]:
    """Scan the demo tenant as the collector (every event), as the "limited" identity (its harvest
    event carries the permission errors), then run the response actions on the findings."""
    from entra_simulator import Simulator

    samples = _make_samples()
    with tempfile.TemporaryDirectory() as work, Simulator() as sim:
        work = Path(work)
        events = samples.scan_events(sim, sim.collector, "demo", work / "state")
        events += [e for e in samples.scan_events(sim, sim.limited, "demo_limited", work / "limited")
                   if e["sourcetype"] == "entra:harvest"]
        findings = [e["event"] for e in events if e["sourcetype"] == "entra:app:finding"]
        events += list(read_stash(samples.response_stash(sim, findings, work / "splunk_home")))
    return events


def search_rows(hec_events: list[dict]) -> list[dict]:
    """Each event as the SPL interpreter's row: its search-time fields, index and _time (the input's
    time; for the alert actions' spool files, the JSON line's own "time", as props.conf reads it)."""
    search_time = SearchTime(read_conf("props"), read_conf("eventtypes"), read_conf("tags"))
    rows = []
    for hec in hec_events:
        row = dict(search_time.process(hec).fields)
        row["index"] = [INDEX]
        row["_time"] = hec["time"] if hec["time"] is not None else _epoch(hec["event"]["time"])
        rows.append(row)
    return rows


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
