"""splunkd's side of the response actions: read the `--execute` payload, act per result row, audit.

splunkd runs `bin/<action>.py --execute` with a JSON payload on stdin (alert_actions.conf
`payload_format = json`): the action's parameters under `configuration`, the first result under
`result`, every result in the gzip CSV `results_file`, plus session_key, server_uri, server_host,
search_name, sid, owner/user. Each result row is one target; a row that fails never stops the next.
First splunkd says who the session belongs to (access.py): without the entra_app_secrets_respond capability
every row is refused and audited, and nothing reaches Graph. Removals are journaled and pre-change
snapshots kept in the KV store (kvstore.py); each run logs ES's sendmodaction lines (modaction.py).

Each row's audit event is written to Splunk the way Enterprise Security's adaptive responses do it: a
small file in $SPLUNK_HOME/var/spool/splunk/ whose `***SPLUNK***` header line sets the sourcetype,
source and host, which splunkd indexes and deletes. No REST call and no HEC token are needed, and the
file is written (atomically) right after the row's change, so a process killed by splunkd's `maxtime`
still leaves an audit event for every change it made.
"""
import csv
import gzip
import json
import os
import re
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from connector import config
from connector.respond import actions
from connector.splunk import access, kvstore
from connector.splunk import settings as splunk_settings
from connector.splunk.modaction import ModActionLog
from connector.graph.client import open_client
from connector.errors import AddonError, ConfigError
from connector.logs import configure_logging, get_logger, redact

SOURCETYPE = "entra:app:response"
STASH_EXTENSION = "stash_entra_app_response"
EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2
# splunkd's own name for each alert action -> the action it runs
ALERT_ACTIONS = {command: action for action, command in actions.COMMANDS.items()}
_TRUE = {"1", "true", "yes", "on", "t", "y"}

log = get_logger("ta_entra_app_secrets.response")


class PayloadError(AddonError):
    """splunkd's payload cannot be used (not JSON, no results)."""


class NotPermitted(actions.TargetError):
    """The user who triggered the action lacks the respond capability: every row is refused and audited."""


@dataclass(frozen=True)
class Payload:
    configuration: dict
    result: dict
    results_file: str = None
    session_key: str = field(default=None, repr=False)
    server_uri: str = None
    server_host: str = None
    search_name: str = None
    sid: str = None
    user: str = None
    app: str = None
    result_id: str = None

    @classmethod
    def from_json(cls, text):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise PayloadError(f"the payload on stdin is not JSON ({exc.msg} at char {exc.pos}); "
                               f"alert_actions.conf must set payload_format = json") from None
        if not isinstance(data, dict):
            raise PayloadError("the payload on stdin is not a JSON object")
        return cls(configuration=data.get("configuration") or {}, result=data.get("result") or {},
                   results_file=data.get("results_file"), session_key=data.get("session_key"),
                   server_uri=data.get("server_uri"), server_host=data.get("server_host"),
                   search_name=data.get("search_name"), sid=data.get("sid"),
                   user=data.get("user") or data.get("owner"), app=data.get("app"),
                   result_id=data.get("result_id"))

    def flag(self, name):
        return str(self.configuration.get(name, "")).strip().lower() in _TRUE


# --- results ---------------------------------------------------------------------------------------
def decode_multivalue(encoded):
    """Splunk's __mv_ encoding ("$one$;$two$", a literal $ doubled) -> ["one", "two"]."""
    if not encoded:
        return []
    values, current, i = [], [], 0
    inside = False
    while i < len(encoded):
        char = encoded[i]
        if not inside:
            inside = char == "$"
        elif char == "$" and encoded[i + 1:i + 2] == "$":
            current.append("$")
            i += 1
        elif char == "$":
            values.append("".join(current))
            current, inside = [], False
        else:
            current.append(char)
        i += 1
    return values


def decode_row(raw):
    """A results.csv row -> {field: value}: a multivalue field becomes a list, the __mv_ columns go."""
    row = {}
    for name, value in raw.items():
        if name is None or name.startswith("__mv_"):
            continue
        values = decode_multivalue(raw.get("__mv_" + name))
        row[name] = values if len(values) > 1 else value
    return row


def iter_results_file(path):
    """Stream the rows of splunkd's gzip CSV results file, one dict at a time."""
    csv.field_size_limit(16 * 1024 * 1024)
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for raw in csv.DictReader(handle):
            yield decode_row(raw)


def iter_rows(payload):
    """(result id, row) for every result: from results_file, or the payload's single `result`."""
    path = payload.results_file
    if path and os.path.isfile(path):
        # Per-result alerting hands one result in its own file, with its number as result_id.
        first = int(payload.result_id) if str(payload.result_id or "").isdigit() else 0
        for position, row in enumerate(iter_results_file(path), start=first):
            yield str(row.get("rid") or position), row
        return
    if path:
        log.warning("response.results_file_missing", results_file=path,
                    using="the payload's first result only" if payload.result else None)
    if not payload.result:
        raise PayloadError(f"no results: results_file {path!r} cannot be read and the payload has no result")
    yield str(payload.result.get("rid") or payload.result_id or 0), payload.result


# --- the stash writer: our small equivalent of ES's cim_actions.writeevents ------------------------------
def _header_value(value):
    # The ***SPLUNK*** header is space-separated key=value pairs: a value must not hold spaces.
    return re.sub(r"\s+", "_", str(value)) if value else "unknown"


class StashWriter:
    """Write audit events to $SPLUNK_HOME/var/spool/splunk/ for splunkd to index and then delete."""

    def __init__(self, splunk_home, *, host, index=None):
        self.spool_dir = os.path.join(splunk_home, "var", "spool", "splunk")
        # Files are finished one level up and renamed in, so splunkd never reads half a file.
        self.staging_dir = os.path.dirname(self.spool_dir)
        self.host = host
        self.index = index

    def write(self, event, *, source, when=None):
        """Write one event (a dict) as one JSON line; returns the spool file's path."""
        when = time.time() if when is None else when
        header = f"***SPLUNK*** sourcetype={SOURCETYPE} source={_header_value(source)} host={_header_value(self.host)}"
        if self.index:
            header += f" index={_header_value(self.index)}"
        body = {"time": _iso_time(when), **event}
        os.makedirs(self.spool_dir, exist_ok=True)
        name = f"{when:.6f}_{uuid.uuid4().hex}.{STASH_EXTENSION}"
        handle, staging_path = tempfile.mkstemp(prefix=".entra_app_response_", dir=self.staging_dir)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stash:
                stash.write(header + "\n")
                stash.write(json.dumps(body, separators=(",", ":"), default=str) + "\n")
                stash.flush()
                os.fsync(stash.fileno())
            final_path = os.path.join(self.spool_dir, name)
            os.replace(staging_path, final_path)
        except BaseException:
            if os.path.exists(staging_path):
                os.unlink(staging_path)
            raise
        return final_path


def _iso_time(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int((epoch % 1) * 1e6):06d}Z"


# --- accounts and Graph clients, built once per account ------------------------------------------------
def default_graph_factory(account):
    """The one Graph client for an account, built as the scan builds it."""
    return open_client(account)


class Accounts:
    """Resolve the account for each row (named, the one [response] tenant_accounts names for the row's
    tenant, or the only one for that tenant) and its Graph client. Accounts come through splunkd's REST
    API with the payload's session key (connector/splunk/settings.py), never from the app's files."""

    def __init__(self, payload, graph_factory, *, splunkd=None):
        self.payload = payload
        self.graph_factory = graph_factory
        self.tenant_accounts = {}
        self._clients = {}
        try:
            self.splunkd = splunkd or splunk_settings.Splunkd(payload.server_uri, payload.session_key)
            self.all = splunk_settings.read_accounts(None, None, splunkd=self.splunkd)
            self.error = None
        except ConfigError as exc:
            self.splunkd, self.all, self.error = None, {}, exc

    def for_tenant(self, tenant_id):
        if self.error:
            raise self.error
        named = str(self.payload.configuration.get("account") or "").strip() or None
        if not named and tenant_id:
            named = self.tenant_accounts.get(str(tenant_id).strip().lower())
        if not tenant_id and not named:
            # Some correlation searches keep no tenant_id; with one account there is no doubt which.
            if len(self.all) == 1:
                return next(iter(self.all.values()))
            raise ConfigError("the result has no tenant_id and several (or no) accounts are configured; "
                              "set the action's account parameter")
        return config.find_account_for_tenant(self.all, tenant_id, prefer=named)

    def graph(self, account):
        if account.name not in self._clients:
            # the account's own mistakes (an expired certificate, no secret stored) fail its rows only
            config.validate_account(account)
            self._clients[account.name] = self.graph_factory(account)
        return self._clients[account.name]


# --- the per-row loop -----------------------------------------------------------------------------------
def run_rows(action, payload, *, splunk_home, graph_factory=default_graph_factory, now=None):
    """Act on every result row; write one audit event per row. Returns (rows, failures).

    First splunkd says who triggered the action: without the respond capability every row is refused
    (and audited) before an account is loaded or Graph is asked anything. Accounts and [response] come
    through splunkd too: the app folder holds only code."""
    command = actions.COMMANDS[action]
    modactions = ModActionLog(splunk_home, command, payload)
    modactions.message("Invoking modular action")
    caller, refusal = _permission(payload)
    if caller:
        modactions.common["user"] = caller.username
    response = {}
    if refusal:
        log.warning("response.not_permitted", user=caller.username if caller else payload.user,
                    capability=access.RESPOND_CAPABILITY, reason=refusal)
        accounts, settings = None, NotPermitted(refusal)
        journal = actions.Journal(None)
    else:
        accounts = Accounts(payload, graph_factory)
        try:
            if accounts.error:
                raise accounts.error
            response = splunk_settings.read_settings(None, None, "response", splunkd=accounts.splunkd)
            settings = actions.ResponseSettings.load(response, accounts.all.values())
            accounts.tenant_accounts = settings.tenant_accounts
        except ConfigError as exc:
            settings = exc
        journal = _journal(payload)
    index = (response.get("audit_index") or "").strip() or None
    stash = StashWriter(splunk_home, host=payload.server_host, index=index)
    dry_run, force = payload.flag("dry_run"), payload.flag("force")
    user = caller.username if caller else payload.user
    rows = failures = 0
    try:
        for result_id, row in iter_rows(payload):
            rows += 1
            outcome, account = _act_on_row(action, row, accounts, settings, journal,
                                           dry_run=dry_run, force=force, now=now, row_number=rows)
            failures += outcome.status != "success"
            invocation = _invocation(payload, row, result_id, user)
            event = redact(actions.audit_fields(
                outcome, account_name=account.name if account else None,
                tenant_id=account.tenant_id if account else None,
                graph_host=urlsplit(account.graph_root).hostname if account else None, invocation=invocation))
            _report(event)
            modactions.message(event["result"][:300], status=outcome.status, rid=result_id,
                               orig_sid=invocation["orig_sid"], orig_rid=invocation["orig_rid"],
                               outcome=outcome.outcome, app_id=event["app_id"], key_id=event["key_id"])
            try:
                stash.write(event, source=f"entra_app_secrets://{account.name if account else 'unknown'}")
            except OSError as exc:
                # The change (if any) is made; the add-on log above still holds its record.
                failures += outcome.status == "success"
                log.error("response.audit_not_spooled", spool_dir=stash.spool_dir, error=str(exc),
                          result_id=result_id)
                sys.stderr.write(f"ERROR cannot write the audit event to {stash.spool_dir}: {exc.strerror}\n")
    finally:
        modactions.close()
    return rows, failures


def _permission(payload):
    """(Caller or None, refusal or None): the session's user must hold entra_app_secrets_respond."""
    try:
        caller = access.current_caller(payload.server_uri, payload.session_key)
    except ConfigError as exc:
        return None, f"splunkd could not say who triggered the action, so it may not respond: {exc}"
    return caller, access.refusal(caller, access.RESPOND_CAPABILITY, "run the Entra response actions")


def _journal(payload):
    """The removal journal and the snapshots, in the KV store: one for every search head cluster member.
    (Only reached with a session key: without one, splunkd cannot vouch for the user and every row is refused.)"""
    return actions.Journal(
        kvstore.checkpoint_store(payload.server_uri, payload.session_key, kvstore.RESPONSE_JOURNAL),
        kvstore.checkpoint_store(payload.server_uri, payload.session_key, kvstore.SNAPSHOTS))


def _act_on_row(action, row, accounts, settings, journal, *, dry_run, force, now, row_number=1):
    """(Outcome, account or None) for one result row; every failure becomes a failed Outcome."""
    try:
        target = actions.Target.from_fields(row, action)
    except actions.TargetError as exc:
        target = actions.Target(app_id=str(row.get("app_id") or ""), tenant_id=row.get("tenant_id"))
        return actions.failed_outcome(action, target, exc, dry_run=dry_run, forced=force), None
    account = None
    try:
        if isinstance(settings, Exception):
            raise settings
        account = accounts.for_tenant(target.tenant_id)
        refusal = None if dry_run else actions.over_limit_refusal(row_number, settings)
        if refusal:
            raise actions.TargetError(refusal)
        graph = accounts.graph(account)
    except Exception as exc:  # noqa: BLE001 - reported on this row's audit event
        return actions.failed_outcome(action, target, exc, dry_run=dry_run, forced=force), account
    return actions.run_action(action, graph, target, settings, dry_run=dry_run, force=force, journal=journal,
                              now=now, tenant_id=account.tenant_id), account


def _invocation(payload, row, result_id, user=None):
    return {
        "user": user or payload.user,
        "src": payload.server_host,
        "search_name": payload.search_name,
        "result_id": result_id,
        # A notable event carries the sid and rid of the search that raised it; keep them as orig_*.
        "orig_sid": _first(row.get("orig_sid")) or payload.sid,
        "orig_rid": _first(row.get("orig_rid")) or result_id,
    }


def _first(value):
    return value[0] if isinstance(value, list) and value else (value or None)


def _report(event):
    """One log record per row (the add-on log) and one line on stderr (splunkd.log)."""
    level = "INFO" if event["status"] == "success" else "ERROR"
    fields = {k: v for k, v in event.items() if k != "snapshot"}
    (log.info if level == "INFO" else log.error)("response.row", **fields)
    sys.stderr.write(f"{level} command={event['command']} app_id={event['app_id']} key_id={event['key_id']} "
                     f"outcome={event['outcome']} status={event['status']} result={event['result']!r}\n")


# --- entry point ------------------------------------------------------------------------------------------
def main(command, argv, stdin, *, environ=None, graph_factory=default_graph_factory):
    """What bin/<command>.py runs. Exit 0 when every row succeeded, 1 when any failed, 2 for bad usage."""
    environ = os.environ if environ is None else environ
    if not argv or argv[0] != "--execute":
        sys.stderr.write(f"FATAL {command}: unsupported mode {' '.join(argv) or '(none)'}; splunkd runs "
                         f"alert actions with --execute and the payload on stdin\n")
        return EXIT_USAGE
    splunk_home = environ.get("SPLUNK_HOME")
    if not splunk_home:
        sys.stderr.write(f"FATAL {command}: SPLUNK_HOME is not set; run this script from splunkd\n")
        return EXIT_USAGE
    _configure_logging(environ.get("TA_ENTRA_APP_SECRETS_LOG_LEVEL", "INFO"))
    action = ALERT_ACTIONS[command]
    try:
        payload = Payload.from_json(stdin.read())
        if payload.server_uri and payload.session_key:
            # [logging] loglevel from Splunk Web, read at every run: a change applies at the next one
            _configure_logging(splunk_settings.log_level(payload.server_uri, payload.session_key,
                                                         default=environ.get("TA_ENTRA_APP_SECRETS_LOG_LEVEL", "INFO")))
        rows, failures = run_rows(action, payload, splunk_home=splunk_home, graph_factory=graph_factory)
    except (PayloadError, ConfigError) as exc:
        log.error("response.failed", command=command, error=str(exc))
        sys.stderr.write(f"ERROR {command}: {exc}\n")
        return EXIT_USAGE
    log.info("response.finished", command=command, rows=rows, failures=failures,
             search_name=payload.search_name, sid=payload.sid)
    return EXIT_FAILURES if failures else EXIT_OK


def _configure_logging(level):
    try:
        configure_logging(level, splunk_log_name="response")
    except ValueError:  # a mistyped level must not stop a response action
        configure_logging("INFO", splunk_log_name="response")
