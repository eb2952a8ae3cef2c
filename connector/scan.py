"""One scan of one account: sign-ins -> inventory -> details -> findings -> commit.

Order matters. Sign-ins come first and are folded into per-key aggregates as they stream past, so by
the time credentials are listed their last use is known and each credential event can be written the
moment its object's page arrives. Only objects holding a client secret are kept (compactly) until the
per-object details (permissions, roles, federated credentials, owners) are batched in, so memory
follows the number of secrets, not of sign-ins or objects.

Between full harvests, a run whose application and servicePrincipal delta queries report no change
re-assesses the inventory kept from the last harvest instead (see ScanSettings.full_harvest_hours).

Checkpoints: the sign-in cursor is committed after every COMMIT_EVERY sign-in events were written and
flushed; usage aggregates, posture fingerprints and the kept inventory at the end of the run. A crash
therefore never loses a sign-in event and repeats fewer than COMMIT_EVERY; it can only undercount use
in the interrupted window.
"""
import datetime as dt
import time
import uuid
from dataclasses import dataclass, field

from connector.assess.correlate import context_to_state
from connector.assess.holders import Collector
from connector.errors import AddonError, AuthenticationError, ConfigError, GraphError
from connector.graph.client import open_client  # noqa: F401  (tests/samples/make_samples.py opens clients here)
from connector.graph.harvest import Harvester
from connector.logs import get_logger
from connector.scanning import details, kept as kept_inventory
from connector.scanning.context import (STATE_VERSION, ProgressReport, RunContext, client_stats,  # noqa: F401
                                        inventory_key, posture_key, signin_key)
from connector.scanning.inventory import InventoryHarvest
from connector.scanning.posture import WORST_KEPT, Posture  # noqa: F401
from connector.scanning.signins import read_credential_activity, read_signins
from connector.splunk import cim
from connector.splunk.events import default_host
from connector.times import iso, parse_time  # noqa: F401

log = get_logger("connector.scan")

POSTURE_MODES = ("full", "changes")
COMMIT_EVERY = 200   # sign-ins written between two commits of the sign-in cursor

# RunSummary.exit_code: what a script running `entra-app-secrets scan` or `demo` can rely on
EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3


@dataclass(frozen=True)
class ScanSettings:
    signin_lookback_hours: int = 24       # first run; also the window for use counts and source IPs
    # Each run re-reads this far behind the last one for sign-ins Graph publishes late (Entra's sign-in
    # log latency: README/inputs.conf.spec); the checkpoint keeps one id per sign-in inside it.
    signin_overlap_minutes: int = 60
    recent_days: int = 7                  # a secret younger than this is "recently added"
    many_source_ips: int = 5
    posture_mode: str = "full"            # full: every run emits every finding; changes: only what changed
    snapshot_interval_hours: int = 24     # changes mode: a full snapshot this often
    # Between full harvests, a run whose application and servicePrincipal delta queries report no
    # change re-assesses the inventory kept from the last harvest (3 requests instead of one per page
    # and per 20 secret holders). Delta does not see permission grants, role assignments, owners or
    # federated credentials (navigation properties), so a full harvest runs at least this often.
    full_harvest_hours: int = 6
    use_delta: bool = True
    read_signins: bool = True
    read_credential_activity: bool = True
    # client ids of the add-on's other sign-in apps (every configured account): their secrets are
    # flagged is_collector_app too; the scanning account's own client id always is
    own_app_ids: frozenset = frozenset()
    host: str = field(default_factory=default_host)

    def __post_init__(self):
        if self.posture_mode not in POSTURE_MODES:
            raise ConfigError(f"posture_mode {self.posture_mode!r} must be one of {', '.join(POSTURE_MODES)}")
        for name in ("signin_lookback_hours", "signin_overlap_minutes", "recent_days", "many_source_ips",
                     "snapshot_interval_hours", "full_harvest_hours"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name} must be a whole number of at least 1, not {value!r}")


@dataclass
class RunSummary:
    run_id: str
    account: str
    status: str = "success"                 # success | partial | failure
    counts: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    duration_s: float = 0.0
    requests: int = 0
    throttled: int = 0
    throttle_wait_s: float = 0.0
    # the run stopped on a setting an admin must fix (sign-in refused: AADSTS..., unreadable certificate)
    configuration_error: bool = False
    by_severity: dict = field(default_factory=dict)
    # the worst findings for the summary table, at most WORST_KEPT (a heap: memory must not follow the tenant)
    findings: list = field(default_factory=list)   # (score, severity, app name, object type, key id, factors)

    @property
    def exit_code(self):
        """0 no finding, 1 findings, 2 a setting to fix stopped the run, 3 the scan failed or was partial
        (its findings may be incomplete)."""
        if self.configuration_error:
            return EXIT_USAGE
        if self.status in ("failure", "partial"):
            return EXIT_FAILED
        return EXIT_FINDINGS if self.counts.get("findings") else EXIT_CLEAN


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class _Scan:
    """One run's shared context plus what its health event reports."""
    run: RunContext
    posture: Posture
    inventory_source: str = "graph"       # graph: harvested this run; cache: kept from the last harvest
    newest_signin: dt.datetime = None


def _start(account, store, writer, settings, client, clock, observer=None):
    run = RunContext(account=account, store=store, writer=writer, settings=settings, client=client,
                     harvester=Harvester(client), now=clock(),
                     summary=RunSummary(run_id=str(uuid.uuid4()), account=account.name), observer=observer)
    return _Scan(run=run, posture=Posture(run))


def run_scan(account, store, writer, settings=None, *, client=None, clock=utcnow, observer=None):
    """Scan one account; write events to `writer`; commit checkpoints to `store`. Never raises for a
    Graph or sign-in failure: the harvest event and the summary say what failed.

    `clock` gives the run's one reading of the time (tests move it); `observer`, when given, is called
    with a ProgressReport at every phase and every page or hundred objects (the CLI's progress display)."""
    settings = settings or ScanSettings()
    own_client = client is None
    started = time.monotonic()
    scan = None
    try:
        client = client or open_client(account)
        scan = _start(account, store, writer, settings, client, clock, observer)
        _execute(scan)
    except (AddonError, OSError) as error:
        if scan is None:
            raise
        scan.run.harvester.record_error("scan", error)
        scan.run.summary.status = "failure"
        scan.run.summary.configuration_error = isinstance(error, (ConfigError, AuthenticationError))
    finally:
        if scan is not None:
            _finish(scan, started)
        if own_client and client is not None:
            client.close()
    return scan.run.summary


def _execute(scan):
    """The run, top to bottom: sign-ins, last use, then the inventory (harvested, or kept when Graph's
    delta says nothing changed) with its findings, and the commits after the events they cover."""
    run, posture, settings = scan.run, scan.posture, scan.run.settings
    collector = Collector.of(run.account, settings.own_app_ids)
    if settings.read_signins:
        _read_signins(scan)
    run.progress("signins_read")
    if settings.read_credential_activity:
        read_credential_activity(run, posture.usage)
        run.progress("credential_activity_read")
    posture.usage.prune(run.now)

    kept = kept_inventory.unchanged_inventory(run)
    if kept is not None:
        scan.inventory_source = "cache"
        kept_inventory.emit_kept(run, posture, kept, collector)
        run.progress("findings_written_from_kept_inventory")
        kept_inventory.commit_inventory(run, kept)
    else:
        _harvest_and_assess(scan, collector)
    posture.commit()


def _read_signins(scan):
    scan.run.begin("signins_reading")
    try:
        scan.newest_signin = read_signins(scan.run, scan.posture.usage, COMMIT_EVERY)
    except AuthenticationError:
        raise
    except GraphError as error:
        # no licence, no permission, retention: the inventory and findings still matter
        scan.run.harvester.record_error("signins", error)


def _harvest_and_assess(scan, collector):
    """Full harvest: inventory, the secret holders' details, one finding per secret, the kept inventory."""
    run, posture = scan.run, scan.posture
    # the delta links are taken before listing, so a change made during the harvest shows next run
    delta_links = run.harvester.delta_links() if run.settings.use_delta else None
    harvest = InventoryHarvest(run, posture)
    run.begin("applications_reading")
    harvest.read_applications()
    run.progress("applications_read")
    harvest.read_service_principals()
    run.progress("service_principals_read")
    found = details.read_details(run, harvest.holders, harvest.credential)
    run.progress("details_read")
    contexts = {}
    for holder, context in harvest.holders.contexts(found, collector):
        contexts[context.app_id] = context_to_state(context)
        for credential in holder.secrets:
            posture.finding(credential, context)
    run.progress("findings_written")
    kept_inventory.commit_inventory(run, kept_inventory.harvested_document(
        run, delta_links, harvest.kept_credentials, contexts))


def _finish(scan, started):
    run = scan.run
    summary = run.summary
    summary.errors = list(run.harvester.errors)
    if summary.status != "failure" and summary.errors:
        summary.status = "partial"
    summary.duration_s = time.monotonic() - started
    stats = getattr(run.client, "stats", None)
    summary.requests, summary.throttled, summary.throttle_wait_s = client_stats(run.client)
    lag = (run.now - scan.newest_signin).total_seconds() if scan.newest_signin else None
    try:
        run.emit(cim.SOURCETYPE_HARVEST, cim.harvest_event(
            account=run.account.name, tenant_id=run.account.tenant_id, run_id=summary.run_id, status=summary.status,
            started=iso(run.now), duration_s=summary.duration_s, stats=stats, errors=summary.errors,
            counts=summary.counts, signin_lag_s=round(lag, 1) if lag is not None else None,
            mode="full" if scan.posture.snapshot else "changes", auth_method=run.account.auth_method,
            inventory=scan.inventory_source))
        run.writer.flush()
    except OSError as error:
        # the output itself is gone (splunkd closed the pipe, disk full): the log still says how it ended
        log.error("scan.health_event_lost", account=run.account.name, error=str(error))
    log.info("scan.finished", account=run.account.name, run_id=summary.run_id, status=summary.status,
             duration_s=round(summary.duration_s, 3), requests=summary.requests, throttled=summary.throttled,
             errors=len(summary.errors), **summary.counts)
    run.begin("finished")


# parameter -> (lowest, highest, unit). The overlap's ceiling keeps the sign-in checkpoint small (one id
# per sign-in inside the overlap) while covering twice the longest latency Microsoft states (two hours).
INPUT_NUMBER_PARAMETERS = {"signin_lookback_hours": (1, 720, "hours"), "snapshot_interval_hours": (1, 8760, "hours"),
                           "signin_overlap_minutes": (1, 240, "minutes")}


def number_setting(name, raw):
    """One whole-number setting, checked against its range; ConfigError says what to fix."""
    low, high, unit = INPUT_NUMBER_PARAMETERS[name]
    try:
        number = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a whole number of {unit} between {low} and {high}, not {raw!r}") from None
    if not low <= number <= high:
        raise ConfigError(f"{name} must be between {low} and {high} {unit}, not {number}")
    return number


def report_unstartable_run(account, store, writer, settings, error, stage="credentials", clock=utcnow):
    """The entra:harvest event (status failure) of a run that could not start, e.g. no secret to sign in
    with: the health dashboard then shows the failure and the message that says what to fix."""
    scan = _start(account, store, writer, settings, None, clock)
    scan.run.harvester.record_error(stage, error)
    scan.run.summary.status = "failure"
    _finish(scan, time.monotonic())
    return scan.run.summary
