"""What every phase of one run shares: where events go, where state goes, the run's clock reading,
its counters, and the progress observer (the CLI's display; the modular input passes none)."""
import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

from connector.logs import get_logger
from connector.splunk.events import hec_event

log = get_logger("connector.scan")

STATE_VERSION = 1
COUNTERS = ("applications", "service_principals", "credentials", "secrets", "signins_new", "findings")


def signin_key(account):
    return f"{account.name}.signins"


def posture_key(account):
    return f"{account.name}.posture"


def inventory_key(account):
    return f"{account.name}.inventory"


@dataclass(frozen=True)
class ProgressReport:
    """Where a run is, for a progress display: handed to the observer, never printed by the scan."""
    phase: str
    counts: Mapping
    requests: int = 0
    throttled: int = 0
    throttle_wait_s: float = 0.0


def client_stats(client):
    """(requests, throttled, seconds waited on throttling) of a client; 0 for what it does not count."""
    stats = getattr(client, "stats", None)
    return (getattr(stats, "requests", 0), getattr(stats, "throttled", 0),
            float(getattr(stats, "throttle_wait_s", 0) or 0))


@dataclass
class RunContext:
    account: object
    store: object
    writer: object
    settings: object
    client: object
    harvester: object
    now: dt.datetime
    summary: object
    observer: Optional[Callable[[ProgressReport], None]] = None
    phase: str = "starting"
    source: str = field(init=False)

    def __post_init__(self):
        self.source = f"entra_app_secrets://{self.account.name}"
        for name in COUNTERS:
            self.summary.counts.setdefault(name, 0)

    @property
    def counts(self):
        return self.summary.counts

    def emit(self, sourcetype, body, when=None):
        self.writer.write(hec_event(body, sourcetype=sourcetype, source=self.source, host=self.settings.host,
                                    time=(when or self.now).timestamp()))

    def progress(self, phase):
        """A phase ended or began: one log line (the Splunk log shows where long runs are) and a report."""
        self.phase = phase
        requests, _throttled, _waited = client_stats(self.client)
        log.info("scan.progress", account=self.account.name, run_id=self.summary.run_id, phase=phase,
                 requests=requests, **self.counts)
        self.tick()

    def begin(self, phase):
        """A phase begins: a report to the observer only (the log has a line when it ends)."""
        self.phase = phase
        self.tick()

    def tick(self):
        """Objects were read inside a phase: a report to the observer only (no log line)."""
        if self.observer is None:
            return
        requests, throttled, waited = client_stats(self.client)
        self.observer(ProgressReport(phase=self.phase, counts=dict(self.counts), requests=requests,
                                     throttled=throttled, throttle_wait_s=waited))
