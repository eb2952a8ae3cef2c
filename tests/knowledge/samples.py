"""Load the committed sample events (tests/samples/) as HEC-shaped dicts.

Modular-input sourcetypes are JSON lines of HEC events. Response events are the spool files the
alert actions write: a `***SPLUNK*** key=value ...` header line sets sourcetype, source and host
for the JSON lines after it, the way splunkd reads them.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "samples"
STASH_HEADER = "***SPLUNK***"
GENERATOR = SAMPLES_DIR / "make_samples.py"


def sample_generator():
    """tests/samples/make_samples.py as a module (it is a script, not a package member)."""
    spec = importlib.util.spec_from_file_location("make_samples", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate_samples(folder: Path) -> None:
    sample_generator().generate(folder)


def load_samples(folder: Path = SAMPLES_DIR) -> list[dict]:
    events = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            events += [json.loads(line) for line in handle if line.strip()]
    for path in sorted(folder.glob("*.stash")):
        events += list(read_stash(path.read_text(encoding="utf-8")))
    return events


def read_stash(text: str):
    metadata = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith(STASH_HEADER):
            metadata = dict(pair.split("=", 1) for pair in line[len(STASH_HEADER):].split())
            continue
        yield {"time": None, "host": metadata.get("host"), "source": metadata.get("source"),
               "sourcetype": metadata.get("sourcetype"), "event": json.loads(line), "raw": line}
