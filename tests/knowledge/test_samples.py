"""The committed samples are what today's code writes, and carry nothing secret."""
import importlib.util
from collections import defaultdict

import pytest

from .samples import SAMPLES_DIR, load_samples

GENERATOR = SAMPLES_DIR / "make_samples.py"


def fields_per_sourcetype(events):
    fields = defaultdict(set)
    for hec in events:
        fields[hec["sourcetype"]] |= set(hec["event"])
    return fields


@pytest.mark.timeout(120)
def test_committed_samples_have_the_fields_the_code_writes_today(tmp_path, sample_events):
    spec = importlib.util.spec_from_file_location("make_samples", GENERATOR)
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    generator.generate(tmp_path)
    fresh, committed = fields_per_sourcetype(load_samples(tmp_path)), fields_per_sourcetype(sample_events)
    assert set(fresh) == set(committed) == set(generator.SAMPLE_FILES)
    for sourcetype in fresh:
        assert fresh[sourcetype] == committed[sourcetype], (
            f"{sourcetype}: samples are stale, run tests/samples/make_samples.py "
            f"(new: {sorted(fresh[sourcetype] - committed[sourcetype])}, "
            f"gone: {sorted(committed[sourcetype] - fresh[sourcetype])})")


def test_samples_hold_no_secret_key_or_token():
    for path in SAMPLES_DIR.iterdir():
        if path.suffix not in (".jsonl", ".stash"):
            continue
        text = path.read_text(encoding="utf-8")
        for needle in ("-----BEGIN", "eyJ0eXAi", "eyJhbGci", "Bearer ", "client_assertion", "client_secret"):
            assert needle not in text, f"{path.name} holds {needle!r}"
