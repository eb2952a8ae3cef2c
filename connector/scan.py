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
import dataclasses
import datetime as dt
import hashlib
import heapq
import json
import time
import uuid
from dataclasses import dataclass, field

from connector.splunk import cim
from connector.assess import correlate
from connector.assess.score import assess
from connector.assess.correlate import AppContext, Permission, UsageTracker, credentials_of
from connector.times import iso, parse_time
from connector.errors import AddonError, AuthenticationError, ConfigError, GraphError
from connector.splunk.events import default_host, hec_event
from connector.graph.client import open_client
from connector.graph.harvest import Harvester, SigninCursor
from connector.logs import get_logger
from connector.graph.streams import (APPLICATION_OWNERS, APP_ROLE_ASSIGNMENTS, FEDERATED_CREDENTIAL_HOLDERS,
                               FEDERATED_CREDENTIALS)

log = get_logger("connector.scan")

POSTURE_MODES = ("full", "changes")
WORST_KEPT = 100
COMMIT_EVERY = 200   # sign-ins written between two commits of the sign-in cursor
STATE_VERSION = 1


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
    by_severity: dict = field(default_factory=dict)
    # the worst findings for the summary table, at most WORST_KEPT (a heap: memory must not follow the tenant)
    findings: list = field(default_factory=list)   # (score, severity, app name, object type, key id, factors)

    @property
    def exit_code(self):
        """CLI convention: 0 clean, 1 findings or a failure."""
        return 1 if (self.status == "failure" or self.counts.get("findings")) else 0


def signin_key(account):
    return f"{account.name}.signins"


def posture_key(account):
    return f"{account.name}.posture"


def inventory_key(account):
    return f"{account.name}.inventory"


def utcnow():
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class _Identity:
    """One app identity (appId) that holds at least one secret, kept until its details arrive."""
    app_id: str
    app_name: str = ""
    application: dict = None          # {id, displayName, signInAudience}
    service_principal: dict = None    # {id, displayName, accountEnabled, signInAudience, appOwnerOrganizationId}
    secrets: list = field(default_factory=list)
    has_certificate: bool = False


class _Run:
    """The state of one run; run_scan below is its only user."""

    def __init__(self, account, store, writer, settings, client, clock):
        self.account, self.store, self.writer, self.settings = account, store, writer, settings
        self.client = client
        self.now = clock()
        self.harvester = Harvester(client)
        self.source = f"entra_app_secrets://{account.name}"
        self.summary = RunSummary(run_id=str(uuid.uuid4()), account=account.name)
        self.counts = self.summary.counts
        for name in ("applications", "service_principals", "credentials", "secrets", "signins_new", "findings"):
            self.counts[name] = 0
        posture = store.load(posture_key(account)) or {}
        self.usage = UsageTracker(settings.signin_lookback_hours, posture.get("usage"))
        self.fingerprints = dict(posture.get("fingerprints") or {})
        self.new_fingerprints = {}
        self.last_snapshot = parse_time(posture.get("last_snapshot"))
        self.snapshot = (settings.posture_mode == "full" or self.last_snapshot is None or
                         self.now - self.last_snapshot >= dt.timedelta(hours=settings.snapshot_interval_hours))
        self.identities = {}
        self.inventory_source = "graph"       # graph: harvested this run; cache: kept from the last harvest
        self.kept_credentials = []            # credential states for the inventory cache
        self.kept_contexts = {}               # app id -> context state
        self.own_app_ids = {app_id.lower() for app_id in settings.own_app_ids} | {(account.client_id or "").lower()}
        self.certificate_app_ids = set()
        self.newest_signin = None

    def progress(self, phase):
        """One line on stderr (CLI) or in the add-on's log (Splunk) per phase: long runs show where they are."""
        log.info("scan.progress", account=self.account.name, run_id=self.summary.run_id, phase=phase,
                 requests=getattr(getattr(self.client, "stats", None), "requests", 0), **self.counts)

    # ----------------------------------------------------------------------------------- output

    def emit(self, sourcetype, body, when=None):
        self.writer.write(hec_event(body, sourcetype=sourcetype, source=self.source, host=self.settings.host,
                                    time=(when or self.now).timestamp()))

    def emit_posture(self, sourcetype, identity, body, stable_fields):
        """Posture events (findings, credentials): always in full mode; when changed in changes mode.
        Fingerprints are kept in changes mode only: full mode has no use for them."""
        if self.settings.posture_mode == "full":
            self.emit(sourcetype, body)
            return True
        digest = hashlib.sha256(json.dumps({k: body.get(k) for k in stable_fields}, sort_keys=True,
                                           default=str).encode()).hexdigest()[:16]
        self.new_fingerprints[identity] = digest
        if self.snapshot or self.fingerprints.get(identity) != digest:
            self.emit(sourcetype, body)
            return True
        return False

    # --------------------------------------------------------------------------------- sign-ins

    def read_signins(self):
        cursor = SigninCursor(self.store.load(signin_key(self.account)), now=self.now,
                              lookback_hours=self.settings.signin_lookback_hours,
                              overlap_minutes=self.settings.signin_overlap_minutes)
        pages = 0
        for lower, upper, skip in cursor.ranges():
            for page in self.harvester.signin_pages(iso(lower), iso(upper)):
                # commit every COMMIT_EVERY sign-ins: a run killed while writing repeats at most that many
                for start in range(0, len(page.items), COMMIT_EVERY):
                    chunk = page.items[start:start + COMMIT_EVERY]
                    self.write_signins(chunk, cursor, skip)
                    self.writer.flush()
                    cursor.page_read(lower, chunk, skip)
                    self.store.save(signin_key(self.account), cursor.to_state())
                pages += 1
                if pages % 20 == 0:
                    self.progress("signins_reading")
            cursor.range_done(upper)
            self.store.save(signin_key(self.account), cursor.to_state())
        self.newest_signin = cursor.newest_seen

    def write_signins(self, records, cursor, skip):
        seen = set()
        for record in records:
            record_id = record.get("id")
            if not record_id or record_id in seen or cursor.already_read(record_id, skip):
                continue
            seen.add(record_id)
            self.usage.add_signin(record)
            self.emit(cim.SOURCETYPE_SIGNIN,
                      cim.signin_event(record, account=self.account.name, tenant_id=self.account.tenant_id),
                      when=parse_time(record.get("createdDateTime")))
            self.counts["signins_new"] += 1

    def read_credential_activity(self):
        for key_id, last_used in self.harvester.credential_activity():
            self.usage.note_last_use(key_id, last_used)

    # -------------------------------------------------------------------------------- inventory

    def credential_inventory(self, credential, keep=True):
        if keep:
            self.kept_credentials.append(correlate.credential_to_state(credential))
        when = correlate.timing(credential, self.now)
        body = cim.credential_event(credential, when, self.usage.summary(credential.key_id),
                                    account=self.account.name, tenant_id=self.account.tenant_id)
        self.counts["credentials"] += 1
        self.emit_posture(cim.SOURCETYPE_CREDENTIAL, f"credential|{credential.object_id}|{credential.key_id}", body,
                          ("credential_type", "display_name", "start_time", "end_time", "status", "app_name"))

    def read_applications(self):
        for application in self.harvester.applications():
            self.counts["applications"] += 1
            credentials = list(credentials_of(application, "application"))
            for credential in credentials:
                self.credential_inventory(credential)
            if correlate.valid_certificate(credentials, self.now):
                self.certificate_app_ids.add(application.get("appId"))
            secrets = [credential for credential in credentials if credential.is_secret]
            if secrets:
                identity = self._identity(application)
                identity.application = {key: application.get(key) for key in ("id", "displayName", "signInAudience")}
                identity.secrets.extend(secrets)

    def read_service_principals(self):
        for principal in self.harvester.service_principals():
            self.counts["service_principals"] += 1
            credentials = list(credentials_of(principal, "servicePrincipal"))
            for credential in credentials:
                self.credential_inventory(credential)
            secrets = [credential for credential in credentials if credential.is_secret]
            app_id = principal.get("appId")
            if secrets or app_id in self.identities:
                identity = self._identity(principal)
                identity.service_principal = {key: principal.get(key) for key in
                                              ("id", "displayName", "accountEnabled", "signInAudience",
                                               "appOwnerOrganizationId")}
                identity.secrets.extend(secrets)
                identity.has_certificate = identity.has_certificate or any(
                    c.credential_type == "certificate" and (c.usage or "").lower() == "verify"
                    and not correlate.timing(c, self.now).expired for c in credentials)

    def _identity(self, graph_object):
        app_id = graph_object.get("appId") or ""
        identity = self.identities.get(app_id)
        if identity is None:
            identity = self.identities[app_id] = _Identity(app_id=app_id)
        identity.app_name = identity.app_name or graph_object.get("displayName") or ""
        return identity

    # ---------------------------------------------------------------------------------- details

    def contexts(self):
        """AppContext per appId holding a secret, from batched per-object reads."""
        identities = self.identities
        app_objects = {i.application["id"]: app_id for app_id, i in identities.items() if i.application}
        sp_objects = {i.service_principal["id"]: app_id for app_id, i in identities.items() if i.service_principal}

        federated = self.federated_credentials()

        owners = {}
        for object_id, records in self.harvester.per_object(APPLICATION_OWNERS, app_objects):
            owners[app_objects[object_id]] = tuple(
                owner.get("userPrincipalName") or owner.get("displayName") or owner.get("id") or ""
                for owner in records or ())

        assignments = dict(self.harvester.per_object(APP_ROLE_ASSIGNMENTS, sp_objects))
        permissions = self.harvester.permissions(assignments)
        roles = self.harvester.role_assignments(sp_objects)

        for app_id, identity in identities.items():
            sp = identity.service_principal or {}
            app = identity.application or {}
            sp_id = sp.get("id")
            yield identity, AppContext(
                app_id=app_id,
                app_name=identity.app_name,
                application_object_id=app.get("id"),
                service_principal_id=sp_id,
                sign_in_audience=app.get("signInAudience") or sp.get("signInAudience"),
                account_enabled=sp.get("accountEnabled") if sp else None,
                has_certificate=identity.has_certificate or app_id in self.certificate_app_ids,
                has_federated_credential=app_id in federated,
                permissions=tuple(Permission(*entry) for entry in permissions.get(sp_id, ())),
                directory_roles=tuple(sorted(set(roles.get((sp_id or "").lower(), ())))),
                owners=owners.get(app_id, ()),
                is_collector_app=app_id.lower() in self.own_app_ids,
                collector_uses_secret=(self.account.auth_method == "secret"
                                       and app_id.lower() == (self.account.client_id or "").lower()),
                owned_by_other_tenant=_foreign(sp.get("appOwnerOrganizationId"), self.account.tenant_id))

    def federated_credentials(self):
        """Inventory every federated credential in the tenant; return the secret-holding app ids that have one.

        One advanced list names the applications holding a federated credential, with or without a
        secret (an app that migrated off secrets shows its federated credential too), and their
        credentials come in $batch: requests grow with pages, not applications. When Graph refuses the
        advanced query (Azure AD B2C tenants have none), the error is recorded and the secret-holding
        applications are read one by one in $batch instead, so every finding's has_federated_credential
        stays right; only federated credentials of apps without a secret are then missing."""
        federated = set()
        try:
            for page in self.harvester.federated_credential_holder_pages():
                holders = {app["id"]: app for app in page if app.get("id")}
                for app_id, _read in self._inventory_federated(holders):
                    # listed as a holder: it has one, even when reading it failed
                    if app_id in self.identities:
                        federated.add(app_id)
        except GraphError as error:
            self.harvester.record_error(FEDERATED_CREDENTIAL_HOLDERS.name, error)
            unread = {identity.application["id"]: {**identity.application, "appId": app_id}
                      for app_id, identity in self.identities.items()
                      if identity.application and app_id not in federated}
            federated |= {app_id for app_id, read in self._inventory_federated(unread) if read}
        return federated

    def _inventory_federated(self, applications):
        """Write the federated credentials of {object id: {id, appId, displayName}}, read in $batch;
        yield (app id, whether any was read) per application."""
        for object_id, records in self.harvester.per_object(FEDERATED_CREDENTIALS, applications):
            application = applications[object_id]
            credentials = list(correlate.federated_credentials_of(application, records or ()))
            for credential in credentials:
                self.credential_inventory(credential)
            yield application.get("appId") or "", bool(credentials)

    # --------------------------------------------------------------------------------- findings

    def assess_and_emit(self):
        for identity, context in self.contexts():
            self.kept_contexts[context.app_id] = correlate.context_to_state(context)
            for credential in identity.secrets:
                self.emit_finding(credential, context)

    def emit_finding(self, credential, context):
        facts = correlate.secret_facts(credential, context, self.usage.summary(credential.key_id),
                                       self.now, self.settings.recent_days, self.settings.signin_lookback_hours)
        finding = assess(facts, many_ips=self.settings.many_source_ips)
        body = cim.finding_event(finding, account=self.account.name, tenant_id=self.account.tenant_id)
        self.counts["secrets"] += 1
        self.counts["findings"] += 1
        self.summary.by_severity[finding.severity] = self.summary.by_severity.get(finding.severity, 0) + 1
        entry = (finding.score, finding.severity, body["app_name"], credential.object_type, credential.key_id,
                 finding.factor_ids)
        if len(self.summary.findings) < WORST_KEPT:
            heapq.heappush(self.summary.findings, entry)
        else:
            heapq.heappushpop(self.summary.findings, entry)
        self.emit_posture(cim.SOURCETYPE_FINDING, f"finding|{body['id']}", body,
                          ("severity", "risk_score", "risk_factors", "end_time", "account_enabled",
                           "permissions", "directory_roles", "app_name"))

    # ------------------------------------------------------------------------ inventory cache

    def unchanged_inventory(self):
        """The inventory kept from the last harvest, when Graph's delta queries say nothing changed
        since and the last full harvest is recent enough; None otherwise (then harvest)."""
        if not self.settings.use_delta:
            return None
        kept = self.store.load(inventory_key(self.account))
        harvested = parse_time((kept or {}).get("harvested"))
        if not kept or not kept.get("delta_links") or harvested is None:
            return None
        if self.now - harvested >= dt.timedelta(hours=self.settings.full_harvest_hours):
            return None
        links = self.harvester.unchanged_since(kept["delta_links"])
        if links is None:
            return None
        return dict(kept, delta_links=links)

    def emit_from_inventory(self, kept):
        """Credentials and findings again, from the kept inventory with this run's time and usage."""
        self.inventory_source = "cache"
        self.counts["applications"] = kept.get("applications", 0)
        self.counts["service_principals"] = kept.get("service_principals", 0)
        contexts = {}
        for app_id, state in kept.get("contexts", {}).items():
            context = correlate.context_from_state(state)
            # who the add-on signs in as may have changed since the harvest
            contexts[app_id] = dataclasses.replace(
                context, is_collector_app=app_id.lower() in self.own_app_ids,
                collector_uses_secret=(self.account.auth_method == "secret"
                                       and app_id.lower() == (self.account.client_id or "").lower()))
        for state in kept.get("credentials", ()):
            credential = correlate.credential_from_state(state)
            self.credential_inventory(credential, keep=False)
            if credential.is_secret and credential.app_id in contexts:
                self.emit_finding(credential, contexts[credential.app_id])

    def commit_inventory(self, kept=None, delta_links=None):
        """Keep what this run harvested (or refresh the links of the kept one), after the events went out.
        A harvest that met errors is not kept: the next run harvests again."""
        inventory_errors = [e for e in self.harvester.errors if e["stage"] not in ("signins", "app_credential_activity")]
        if kept is not None:
            document = kept
        elif delta_links and not inventory_errors:
            document = {"version": STATE_VERSION, "harvested": iso(self.now), "delta_links": delta_links,
                        "applications": self.counts["applications"],
                        "service_principals": self.counts["service_principals"],
                        "credentials": self.kept_credentials, "contexts": self.kept_contexts}
        else:
            self.store.delete(inventory_key(self.account))
            return
        self.writer.flush()
        self.store.save(inventory_key(self.account), document)

    def commit_posture(self):
        self.writer.flush()
        self.store.save(posture_key(self.account), {
            "version": STATE_VERSION,
            "usage": self.usage.to_state(),
            "fingerprints": self.new_fingerprints,
            "last_snapshot": iso(self.now) if self.snapshot else iso(self.last_snapshot),
        })


def _foreign(owner_tenant, tenant_id):
    """An app registered elsewhere; unknown when the account names its tenant by domain."""
    return bool(owner_tenant and correlate.is_guid(tenant_id) and owner_tenant.lower() != tenant_id.lower())


def run_scan(account, store, writer, settings=None, *, client=None, clock=utcnow):
    """Scan one account; write events to `writer`; commit checkpoints to `store`. Never raises for a
    Graph or sign-in failure: the harvest event and the summary say what failed."""
    settings = settings or ScanSettings()
    own_client = client is None
    started = time.monotonic()
    run = None
    try:
        client = client or open_client(account)
        run = _Run(account, store, writer, settings, client, clock)
        _execute(run)
    except (AddonError, OSError) as error:
        if run is None:
            raise
        run.harvester.record_error("scan", error)
        run.summary.status = "failure"
    finally:
        if run is not None:
            _finish(run, started)
        if own_client and client is not None:
            client.close()
    return run.summary


def _execute(run):
    progress = run.progress
    if run.settings.read_signins:
        try:
            run.read_signins()
        except AuthenticationError:
            raise
        except GraphError as error:
            # no licence, no permission, retention: the inventory and findings still matter
            run.harvester.record_error("signins", error)
    progress("signins_read")
    if run.settings.read_credential_activity:
        run.read_credential_activity()
        progress("credential_activity_read")
    run.usage.prune(run.now)
    kept = run.unchanged_inventory()
    if kept is not None:
        run.emit_from_inventory(kept)
        progress("findings_written_from_kept_inventory")
        run.commit_inventory(kept=kept)
    else:
        # the delta links are taken before listing, so a change made during the harvest shows next run
        delta_links = run.harvester.delta_links() if run.settings.use_delta else None
        run.read_applications()
        progress("applications_read")
        run.read_service_principals()
        progress("service_principals_read")
        run.assess_and_emit()
        progress("findings_written")
        run.commit_inventory(delta_links=delta_links)
    run.commit_posture()


def _finish(run, started):
    summary = run.summary
    summary.errors = list(run.harvester.errors)
    if summary.status != "failure" and summary.errors:
        summary.status = "partial"
    summary.duration_s = time.monotonic() - started
    stats = getattr(run.client, "stats", None)
    summary.requests = getattr(stats, "requests", 0)
    summary.throttled = getattr(stats, "throttled", 0)
    lag = (run.now - run.newest_signin).total_seconds() if run.newest_signin else None
    try:
        run.emit(cim.SOURCETYPE_HARVEST, cim.harvest_event(
            account=run.account.name, tenant_id=run.account.tenant_id, run_id=summary.run_id, status=summary.status,
            started=iso(run.now), duration_s=summary.duration_s, stats=stats, errors=summary.errors,
            counts=summary.counts, signin_lag_s=round(lag, 1) if lag is not None else None,
            mode="full" if run.snapshot else "changes", auth_method=run.account.auth_method,
            inventory=run.inventory_source))
        run.writer.flush()
    except OSError as error:
        # the output itself is gone (splunkd closed the pipe, disk full): the log still says how it ended
        log.error("scan.health_event_lost", account=run.account.name, error=str(error))
    log.info("scan.finished", account=run.account.name, run_id=summary.run_id, status=summary.status,
             duration_s=round(summary.duration_s, 3), requests=summary.requests, throttled=summary.throttled,
             errors=len(summary.errors), **summary.counts)


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
    run = _Run(account, store, writer, settings, None, clock)
    run.harvester.record_error(stage, error)
    run.summary.status = "failure"
    _finish(run, time.monotonic())
    return run.summary
