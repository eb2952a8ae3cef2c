"""Posture output: credential and finding events, written always (posture_mode=full) or only when their
fingerprint changed (posture_mode=changes, with a full snapshot every snapshot_interval_hours), and the
posture checkpoint (use aggregates, fingerprints, last snapshot) committed after the events."""
import datetime as dt
import hashlib
import heapq
import json

from connector.assess import correlate
from connector.assess.correlate import UsageTracker
from connector.assess.score import assess
from connector.splunk import cim
from connector.times import iso, parse_time

from connector.scanning.context import STATE_VERSION, posture_key

WORST_KEPT = 100
CREDENTIAL_STABLE_FIELDS = ("credential_type", "display_name", "start_time", "end_time", "status", "app_name")
FINDING_STABLE_FIELDS = ("severity", "risk_score", "risk_factors", "end_time", "account_enabled", "permissions",
                         "directory_roles", "app_name")


def fingerprint(body, stable_fields):
    """What must differ for changes mode to write an event again."""
    return hashlib.sha256(json.dumps({k: body.get(k) for k in stable_fields}, sort_keys=True,
                                     default=str).encode()).hexdigest()[:16]


class Posture:
    """The posture state of one run: what the last runs sent, and what this one sends."""

    def __init__(self, run):
        self.run = run
        settings = run.settings
        state = run.store.load(posture_key(run.account)) or {}
        self.usage = UsageTracker(settings.signin_lookback_hours, state.get("usage"))
        self.fingerprints = dict(state.get("fingerprints") or {})
        self.new_fingerprints = {}
        self.last_snapshot = parse_time(state.get("last_snapshot"))
        self.full_mode = settings.posture_mode == "full"
        self.snapshot = (self.full_mode or self.last_snapshot is None or
                         run.now - self.last_snapshot >= dt.timedelta(hours=settings.snapshot_interval_hours))

    def emit(self, sourcetype, identity, body, stable_fields):
        """Write a posture event unless changes mode has sent this very one since the last snapshot.
        Fingerprints are kept in changes mode only: full mode has no use for them."""
        if self.full_mode:
            self.run.emit(sourcetype, body)
            return True
        digest = fingerprint(body, stable_fields)
        self.new_fingerprints[identity] = digest
        if self.snapshot or self.fingerprints.get(identity) != digest:
            self.run.emit(sourcetype, body)
            return True
        return False

    def credential(self, credential):
        """The inventory event of one credential (secret, certificate or federated)."""
        run = self.run
        when = correlate.timing(credential, run.now)
        body = cim.credential_event(credential, when, self.usage.summary(credential.key_id),
                                    account=run.account.name, tenant_id=run.account.tenant_id)
        run.counts["credentials"] += 1
        self.emit(cim.SOURCETYPE_CREDENTIAL, f"credential|{credential.object_id}|{credential.key_id}", body,
                  CREDENTIAL_STABLE_FIELDS)

    def finding(self, credential, context):
        """Assess one secret in its app's context; write the CTD-000008 finding; keep the worst for the summary."""
        run, settings = self.run, self.run.settings
        facts = correlate.secret_facts(credential, context, self.usage.summary(credential.key_id), run.now,
                                       settings.recent_days, settings.signin_lookback_hours)
        finding = assess(facts, many_ips=settings.many_source_ips)
        body = cim.finding_event(finding, account=run.account.name, tenant_id=run.account.tenant_id)
        run.counts["secrets"] += 1
        run.counts["findings"] += 1
        _keep_worst(run.summary, finding, body["app_name"], credential)
        self.emit(cim.SOURCETYPE_FINDING, f"finding|{body['id']}", body, FINDING_STABLE_FIELDS)

    def commit(self):
        """After the events are flushed: the next run's use aggregates, fingerprints and snapshot time."""
        self.run.writer.flush()
        self.run.store.save(posture_key(self.run.account), {
            "version": STATE_VERSION,
            "usage": self.usage.to_state(),
            "fingerprints": self.new_fingerprints,
            "last_snapshot": iso(self.run.now) if self.snapshot else iso(self.last_snapshot),
        })


def _keep_worst(summary, finding, app_name, credential):
    """The summary keeps at most WORST_KEPT findings (a heap): memory must not follow the tenant."""
    summary.by_severity[finding.severity] = summary.by_severity.get(finding.severity, 0) + 1
    entry = (finding.score, finding.severity, app_name, credential.object_type, credential.key_id,
             finding.factor_ids)
    if len(summary.findings) < WORST_KEPT:
        heapq.heappush(summary.findings, entry)
    else:
        heapq.heappushpop(summary.findings, entry)
