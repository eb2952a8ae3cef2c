"""events: HEC shape, JSON lines, and the splunklib stream adapter's XML."""
import io
import json

from splunklib.modularinput import EventWriter as SplunkEventWriter

from connector.splunk.events import CountingWriter, JsonLinesWriter, SplunkStreamWriter, hec_event


def event(body=None, sourcetype="entra:app:finding"):
    return hec_event(body or {"app_name": "Pay\u00efroll <&> \"x\"\x07", "n": 1}, sourcetype=sourcetype,
                     source="entra_app_secrets://prod", host="sh1", time=1764324000.123456)


def test_hec_shape():
    assert set(event()) == {"time", "host", "source", "sourcetype", "event"}
    assert event()["time"] == 1764324000.123


def test_json_lines_writer_one_object_a_line_and_counts(tmp_path):
    path = tmp_path / "out.jsonl"
    writer = JsonLinesWriter.to_path(str(path))
    writer.write(event())
    writer.write(event(sourcetype="entra:harvest"))
    writer.close()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["sourcetype"] for line in lines] == ["entra:app:finding", "entra:harvest"]
    assert json.loads(lines[0])["event"]["app_name"] == "Pay\u00efroll <&> \"x\"\x07"
    assert "\\u0007" in lines[0] and "\x07" not in lines[0]  # control characters never break a line
    assert writer.counts == {"entra:app:finding": 1, "entra:harvest": 1}


def test_splunk_stream_writer_writes_escaped_xml_events():
    out, err = io.StringIO(), io.StringIO()
    splunk_writer = SplunkEventWriter(out, err)
    writer = SplunkStreamWriter(splunk_writer, stanza="entra_app_secrets://prod", index="security")
    writer.write(event())
    writer.flush()
    splunk_writer.close()
    xml = out.getvalue()
    assert xml.startswith("<stream><event stanza=\"entra_app_secrets://prod\"") and xml.endswith("</stream>")
    assert "<sourcetype>entra:app:finding</sourcetype>" in xml and "<index>security</index>" in xml
    assert "<time>1764324000.123</time>" in xml and "&lt;&amp;&gt;" in xml
    import xml.etree.ElementTree as ET
    data = ET.fromstring(xml).find("event/data").text
    assert json.loads(data)["app_name"].startswith("Pay\u00efroll <&>")


def test_counting_writer_counts_by_sourcetype_and_keeps_nothing():
    writer = CountingWriter()
    for sourcetype in ("entra:app:finding", "entra:app:finding", "entra:harvest"):
        writer.write(event(sourcetype=sourcetype))
    writer.close()
    assert writer.counts == {"entra:app:finding": 2, "entra:harvest": 1}
    assert not hasattr(writer, "events")
