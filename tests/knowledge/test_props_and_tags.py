"""props/eventtypes/tags/macros: every sourcetype is configured the way splunkd needs it."""
import datetime
import re

import pytest

from connector.splunk import cim

from .search_time import EventtypeSearch
from .splunk_conf import read_conf

SOURCETYPES = [cim.SOURCETYPE_FINDING, cim.SOURCETYPE_CREDENTIAL, cim.SOURCETYPE_SIGNIN,
               cim.SOURCETYPE_RESPONSE, cim.SOURCETYPE_HARVEST]
# The data model each sourcetype maps to; None: no CIM model (see README "Using it in Splunk").
EXPECTED_MODELS = {
    cim.SOURCETYPE_FINDING: {"Alerts"},
    cim.SOURCETYPE_SIGNIN: {"Authentication"},
    cim.SOURCETYPE_RESPONSE: {"Change"},
    cim.SOURCETYPE_CREDENTIAL: set(),
    cim.SOURCETYPE_HARVEST: set(),
}


@pytest.mark.parametrize("sourcetype", SOURCETYPES)
def test_each_sourcetype_breaks_lines_and_extracts_json_once(sourcetype):
    props = read_conf("props")[sourcetype]
    assert props["SHOULD_LINEMERGE"] == "false"
    assert props["LINE_BREAKER"] == r"([\r\n]+)"
    assert int(props["TRUNCATE"]) >= 100000, "a sign-in record or a finding with many IPs is several KB"
    assert props["KV_MODE"] == "json"
    assert "INDEXED_EXTRACTIONS" not in props, "KV_MODE=json plus indexed extractions duplicates fields"


@pytest.mark.parametrize("sourcetype", SOURCETYPES)
def test_timestamps_are_never_guessed(sourcetype):
    props = read_conf("props")[sourcetype]
    if props.get("DATETIME_CONFIG") == "NONE":
        assert "TIME_PREFIX" not in props
        return
    assert {"TIME_PREFIX", "TIME_FORMAT", "MAX_TIMESTAMP_LOOKAHEAD", "TZ"} <= set(props)


def splunk_timestamp(raw: str, props: dict) -> datetime.datetime:
    """What Splunk's timestamp processor reads with TIME_PREFIX/TIME_FORMAT/TZ: the format is
    matched at the text after the prefix and may stop before the lookahead ends."""
    match = re.search(props["TIME_PREFIX"], raw)
    assert match, f"TIME_PREFIX {props['TIME_PREFIX']!r} not found in {raw[:200]!r}"
    window = raw[match.end():match.end() + int(props["MAX_TIMESTAMP_LOOKAHEAD"])]
    python_format = re.sub(r"%\d*N", "%f", props["TIME_FORMAT"])
    for length in range(len(window), 0, -1):
        try:
            parsed = datetime.datetime.strptime(window[:length], python_format)
        except ValueError:
            continue
        assert props["TZ"] == "UTC"
        return parsed.replace(tzinfo=datetime.timezone.utc)
    raise AssertionError(f"TIME_FORMAT {props['TIME_FORMAT']!r} does not parse {window!r}")


def test_signin_time_is_graphs_created_date_time(sample_events):
    props = read_conf("props")[cim.SOURCETYPE_SIGNIN]
    signins = [e for e in sample_events if e["sourcetype"] == cim.SOURCETYPE_SIGNIN]
    assert signins
    for hec in signins:
        raw = json_dumps_as_written(hec["event"])
        parsed = splunk_timestamp(raw, props)
        created = datetime.datetime.fromisoformat(hec["event"]["createdDateTime"].replace("Z", "+00:00"))
        assert parsed == created.replace(microsecond=0)
        # the modular input's <time> and the parsed timestamp agree
        assert abs(parsed.timestamp() - hec["time"]) < 1


def test_response_time_is_the_stash_events_own_time(sample_events):
    props = read_conf("props")[cim.SOURCETYPE_RESPONSE]
    responses = [e for e in sample_events if e["sourcetype"] == cim.SOURCETYPE_RESPONSE]
    assert responses
    for hec in responses:
        parsed = splunk_timestamp(hec["raw"], props)
        written = datetime.datetime.fromisoformat(hec["event"]["time"].replace("Z", "+00:00"))
        assert parsed == written.replace(microsecond=0)


def json_dumps_as_written(body):
    from connector.splunk.events import dumps
    return dumps(body)


def test_tags_name_existing_eventtypes_and_eventtypes_existing_sourcetypes():
    eventtypes, props = read_conf("eventtypes"), read_conf("props")
    for stanza in read_conf("tags"):
        kind, _, name = stanza.partition("=")
        assert kind == "eventtype" and name in eventtypes, f"tags.conf [{stanza}] names no eventtype"
    for name, settings in eventtypes.items():
        assert "index=" not in settings["search"], f"eventtype {name} must not pin an index"
        terms = EventtypeSearch.parse(settings["search"]).terms
        sourcetypes = [t.value for t in terms if t.field == "sourcetype" and not t.negated]
        assert sourcetypes and all(s in props for s in sourcetypes), name


def test_each_eventtype_maps_to_at_most_one_data_model(data_models):
    from .cim_check import models_for_tags
    for stanza, settings in read_conf("tags").items():
        tags = {tag for tag, state in settings.items() if state == "enabled"}
        assert len(models_for_tags(tags, data_models)) <= 1, f"{stanza} maps to several data models"


def test_each_sourcetype_maps_to_its_data_model(processed_samples, data_models):
    from .cim_check import models_for_tags
    seen = {}
    for event in processed_samples:
        seen.setdefault(event.sourcetype, set()).update(models_for_tags(event.tags, data_models))
        assert models_for_tags(event.tags, data_models) == EXPECTED_MODELS[event.sourcetype], \
            (event.sourcetype, event.eventtypes, event.tags)
    assert set(seen) == set(SOURCETYPES), "every sourcetype needs sample events"


def test_account_management_only_for_disable_and_enable(processed_samples):
    for event in processed_samples:
        if event.sourcetype != cim.SOURCETYPE_RESPONSE:
            continue
        assert "modaction_result" in event.tags
        is_account_change = event.value("command") in ("entra_disable_app", "entra_enable_app")
        assert ("account" in event.tags) == is_account_change, event.fields.get("command")


def test_eventtype_search_model_rejects_what_it_cannot_evaluate():
    with pytest.raises(ValueError):
        EventtypeSearch.parse('sourcetype="a" OR sourcetype="b"')


# limits.conf defaults for automatic key-value extraction (KV_MODE=json included): Splunk extracts
# fields from the first [kv] maxchars characters of _raw and at most [kv] limit fields. An event
# beyond them silently loses its trailing fields in every search.
KV_MAXCHARS, KV_LIMIT = 10240, 100


def test_events_fit_splunks_automatic_extraction_limits(sample_events, processed_samples):
    from connector.splunk.events import dumps
    for hec, event in zip(sample_events, processed_samples):
        raw = hec.get("raw") or dumps(hec["event"])
        extracted = set(event.fields) - {"sourcetype", "source", "host", "eventtype", "tag"}
        assert len(raw) <= KV_MAXCHARS, f"{hec['sourcetype']} event of {len(raw)} characters"
        assert len(extracted) <= KV_LIMIT, f"{hec['sourcetype']} event with {len(extracted)} fields"
