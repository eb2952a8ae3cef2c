"""The response actions' spool files are ingested as splunkd documents it: the bytes StashWriter writes,
read against the inputs.conf and props.conf the app ships.

splunkd reads `***SPLUNK*** <metadata field>=<string> ...` as a header that assigns metadata (Getting Data
In, "Assign default fields dynamically": sourcetype, host, source; Splunk_SA_CIM's cim_actions also writes
index= for its stash_common_action_model files), but a file input honours it only when the props of the
input's sourcetype set HEADER_MODE (props.conf.spec: empty means "none" for file inputs). So the spool
file must land under a batch stanza whose sourcetype has HEADER_MODE = firstline, its header must be one
line of space-separated key=value pairs with no space inside a value, and what follows must break and
time-stamp into exactly the events written.
"""
import json
import os
import re

import pytest

from connector.splunk.alert_action import SOURCETYPE, StashWriter
from .test_props_and_tags import splunk_timestamp
from .splunk_conf import read_conf

HEADER = re.compile(r"^\*\*\*SPLUNK\*\*\*((?: [a-z]+=[^\s]+)+)$")


def splunk_wildcard(path):
    """inputs.conf path wildcards: '...' crosses folders, '*' stays inside one."""
    parts = re.split(r"(\.\.\.|\*)", path)
    return re.compile("^" + "".join(".*" if p == "..." else "[^/]*" if p == "*" else re.escape(p)
                                    for p in parts) + "$")


def batch_stanza_for(path, splunk_home):
    for stanza, settings in read_conf("inputs").items():
        if stanza.startswith("batch://"):
            pattern = stanza[len("batch://"):].replace("$SPLUNK_HOME", str(splunk_home))
            if splunk_wildcard(pattern).match(path):
                return stanza, settings
    return None, None


@pytest.fixture
def spooled(tmp_path):
    writer = StashWriter(str(tmp_path), host="sh 1", index="entra_audit")
    event = {"action": "deleted", "result": "removed: secret 'a b' \u00e9", "user": "analyst1", "status": "success"}
    path = writer.write(event, source="entra_app_secrets://prod tenant", when=1764600000.25)
    return tmp_path, path, event


def test_the_spool_file_lands_under_a_batch_stanza_that_honours_its_header(spooled):
    splunk_home, path, _ = spooled
    stanza, settings = batch_stanza_for(path, splunk_home)
    assert stanza, f"no inputs.conf [batch://...] stanza reads {path}"
    assert settings["move_policy"] == "sinkhole", "batch inputs must delete what they read"
    assert settings["queue"] == "stashparsing" and settings["crcSalt"] == "<SOURCE>"
    props = read_conf("props")[settings["sourcetype"]]
    assert props["HEADER_MODE"] == "firstline"
    # the file is finished elsewhere and renamed in: no half-written file is ever under the stanza
    staged = [name for name in os.listdir(splunk_home / "var" / "spool") if name != "splunk"]
    assert staged == []
    assert batch_stanza_for(str(splunk_home / "var" / "spool" / ".entra_app_response_x"), splunk_home) == (None, None)


def test_the_bytes_are_one_header_line_then_one_json_event_splunk_times_correctly(spooled):
    splunk_home, path, event = spooled
    data = open(path, "rb").read()
    assert b"\r" not in data and data.endswith(b"\n") and data.count(b"\n") == 2
    header, body = data.decode("utf-8").splitlines()
    match = HEADER.match(header)
    assert match, header
    pairs = dict(pair.split("=", 1) for pair in match.group(1).split())
    assert pairs == {"sourcetype": SOURCETYPE, "source": "entra_app_secrets://prod_tenant", "host": "sh_1",
                     "index": "entra_audit"}
    _, settings = batch_stanza_for(path, splunk_home)
    props = read_conf("props")[settings["sourcetype"]]
    # after the header, LINE_BREAKER leaves exactly the event, whose own time Splunk reads
    events = [part for part in re.split(props["LINE_BREAKER"], body) if part and not re.fullmatch(r"[\r\n]+", part)]
    assert [json.loads(e) for e in events] == [{"time": "2025-12-01T14:40:00.250000Z", **event}]
    for stanza in (settings["sourcetype"], pairs["sourcetype"]):
        stamp = splunk_timestamp(body, read_conf("props")[stanza])
        assert stamp.timestamp() == 1764600000
    assert read_conf("props")[pairs["sourcetype"]]["KV_MODE"] == "json"
