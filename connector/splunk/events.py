"""HEC-shaped events and the writers that deliver them.

Every event is {"time", "host", "source", "sourcetype", "event"}. The scan hands each one to a writer
and only commits a checkpoint after `flush()` returned, so what a checkpoint says was emitted was
really written (to a file, to stdout, or to splunkd's stdin stream).
"""
import json
import socket


def hec_event(body, *, sourcetype, source, host, time):
    return {"time": round(float(time), 3), "host": host, "source": source, "sourcetype": sourcetype,
            "event": body}


def dumps(value):
    # ensure_ascii=False keeps non-Latin display names readable; control characters are still escaped
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


class EventWriter:
    """write(hec) for each event, flush() at each commit point, close() at the end."""

    def __init__(self):
        self.counts = {}

    def write(self, hec):
        self.counts[hec["sourcetype"]] = self.counts.get(hec["sourcetype"], 0) + 1
        self._write(hec)

    def _write(self, hec):
        raise NotImplementedError

    def flush(self):
        pass

    def close(self):
        self.flush()


class JsonLinesWriter(EventWriter):
    """One HEC JSON object a line, to a text stream (a file or stdout)."""

    def __init__(self, stream, close_stream=False):
        super().__init__()
        self.stream = stream
        self.close_stream = close_stream

    @classmethod
    def to_path(cls, path):
        return cls(open(path, "a", encoding="utf-8"), close_stream=True)

    def _write(self, hec):
        self.stream.write(dumps(hec) + "\n")

    def flush(self):
        self.stream.flush()

    def close(self):
        self.flush()
        if self.close_stream:
            self.stream.close()


class ListWriter(EventWriter):
    """Keeps events in memory: for tests only (a real run must not hold its events)."""

    def __init__(self):
        super().__init__()
        self.events = []

    def _write(self, hec):
        self.events.append(hec)


class CountingWriter(EventWriter):
    """Counts events by sourcetype and drops them (the demo without --output, the benchmarks)."""

    def _write(self, hec):
        pass


class SplunkStreamWriter(EventWriter):
    """Adapter over splunklib's modular-input EventWriter: one <event> per HEC event.

    splunklib escapes the XML; the event body goes in <data> as JSON, its time as epoch seconds.
    """

    def __init__(self, event_writer, *, stanza, index=None):
        super().__init__()
        from splunklib.modularinput import Event  # splunklib only where splunkd drives us
        self._event_class = Event
        self.event_writer = event_writer
        self.stanza = stanza
        self.index = index

    def _write(self, hec):
        self.event_writer.write_event(self._event_class(
            data=dumps(hec["event"]), stanza=self.stanza, time="%.3f" % hec["time"], host=hec["host"],
            index=self.index, source=hec["source"], sourcetype=hec["sourcetype"]))

    def flush(self):
        # splunklib's write_event flushes its stream after each event
        out = getattr(self.event_writer, "_out", None)
        if out is not None:
            out.flush()


def default_host():
    return socket.gethostname()
