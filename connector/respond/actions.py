"""Response actions on one CTD-000008 finding: remove a client secret, disable the app, enable it again.

Every action follows the same order, so that nothing changes until every check has passed:

1. refuse protected apps (the add-on's own accounts always; `protected_app_ids` in the settings);
2. look the object up in Graph and refuse when it is not what the finding says (app id, key id);
3. take a snapshot of what is about to change (credential metadata and accountEnabled, never values);
4. refuse to remove a secret used in the last `recent_use_days` days unless forced;
5. stop there for a dry run, saying exactly what would change;
6. make the one Graph call, and record a removal in the journal so that a repeat is recognised.

A removal is final: Graph never returns a secret's value after it was created, so nothing can put it
back. The rollback for a removed secret is a new secret (rotation), not a restore.
"""
import datetime
import re
from dataclasses import dataclass, field
from typing import Optional

from connector.splunk import cim
from connector import conf_files
from connector.times import iso, parse_time
from connector.errors import AddonError, AuthenticationError, ConfigError, GraphError, GraphNotFound
from connector.logs import get_logger

SETTINGS_CONF = "ta_entra_app_secrets_settings"
DEFAULT_RECENT_USE_DAYS = 7
DEFAULT_MAX_ROWS_PER_RUN = 20

REMOVE_SECRET, DISABLE_APP, ENABLE_APP = "remove_secret", "disable_app", "enable_app"
# action -> the alert action (and audit `command`) name
COMMANDS = {REMOVE_SECRET: "entra_remove_secret", DISABLE_APP: "entra_disable_app", ENABLE_APP: "entra_enable_app"}
OBJECT_TYPES = ("application", "servicePrincipal")
COLLECTIONS = {"application": "applications", "servicePrincipal": "servicePrincipals"}

CHANGED, ALREADY_DONE, DRY_RUN, REFUSED, ERROR = "changed", "already_done", "dry_run", "refused", "error"
SUCCESSFUL_OUTCOMES = (CHANGED, ALREADY_DONE, DRY_RUN)

# Only metadata is ever selected: secretText is not readable after creation anyway, and keyCredentials'
# `key` (the public certificate) is of no use in an audit trail.
_PASSWORD_FIELDS = ("keyId", "displayName", "hint", "startDateTime", "endDateTime")
_KEY_FIELDS = ("keyId", "displayName", "type", "usage", "startDateTime", "endDateTime")
_SELECT = {
    "application": "id,appId,displayName,passwordCredentials,keyCredentials",
    "servicePrincipal": "id,appId,displayName,accountEnabled,passwordCredentials,keyCredentials",
}
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
log = get_logger("ta_entra_app_secrets.actions")
NO_RESTORE_NOTE = ("a removed secret cannot be restored (Graph never returns a secret's value again); "
                   "if something still needs it, give that app a new credential, preferably a certificate "
                   "or a federated credential")


class TargetError(AddonError):
    """The finding does not name its target well enough to act on it."""


# --- what to act on ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """The object a finding names, from the finding's own fields (a result row or CLI flags)."""
    app_id: str
    tenant_id: Optional[str] = None
    object_type: Optional[str] = None
    object_id: Optional[str] = None
    key_id: Optional[str] = None
    app_name: Optional[str] = None
    last_used: Optional[str] = None
    # True when the finding carried a last_used field at all (empty = never seen used in the
    # harvested sign-ins); False when the field is missing, so the last use must be asked from Graph.
    last_used_known: bool = False

    @classmethod
    def from_fields(cls, fields, action):
        """Build a Target from a mapping of finding fields; TargetError naming what is missing or wrong."""
        def single(name):
            value = fields.get(name)
            if isinstance(value, (list, tuple)):
                # GUIDs in two spellings (case) are one value
                distinct = sorted({str(v).strip().lower(): str(v).strip() for v in value if str(v).strip()}.values())
                if len(distinct) > 1:
                    raise TargetError(f"the result names {len(distinct)} values of {name} "
                                      f"({', '.join(distinct[:3])}{', ...' if len(distinct) > 3 else ''}); "
                                      f"one result must name exactly one target")
                value = distinct[0] if distinct else None
            value = str(value).strip() if value is not None else ""
            return value or None

        app_id = single("app_id")
        if not app_id:
            raise TargetError("the result has no app_id; it must carry the finding's app_id")
        object_type = single("object_type")
        if object_type and object_type not in OBJECT_TYPES:
            raise TargetError(f"object_type {object_type!r} must be application or servicePrincipal")
        key_id = single("key_id")
        if action == REMOVE_SECRET and not key_id:
            raise TargetError("the result has no key_id; it must name the secret to remove")
        for name, value in (("app_id", app_id), ("key_id", key_id), ("object_id", single("object_id"))):
            if value and not _GUID.match(value):
                raise TargetError(f"{name} {value!r} is not a GUID")
        return cls(app_id=app_id.lower(), tenant_id=single("tenant_id"), object_type=object_type,
                   object_id=single("object_id"), key_id=key_id.lower() if key_id else None,
                   app_name=single("app_name"), last_used=single("last_used"),
                   last_used_known="last_used" in fields)


@dataclass(frozen=True)
class ResponseSettings:
    protected_app_ids: frozenset = frozenset()
    recent_use_days: int = DEFAULT_RECENT_USE_DAYS
    # A search scoped too widely must not strip secrets from half the tenant in one run.
    max_rows_per_run: int = DEFAULT_MAX_ROWS_PER_RUN
    # tenant id (lower case) -> the account that answers for it, from [response] tenant_accounts
    tenant_accounts: dict = field(default_factory=dict, compare=False)

    @classmethod
    def load(cls, source, accounts=()):
        """[response] of ta_entra_app_secrets_settings.conf, plus every configured account's client id.

        `source` is the stanza's values as splunkd serves them (the alert actions) or, for the CLI, the
        app folder whose conf files to read. The add-on's own apps are always protected: disabling the
        collector would blind the add-on, and disabling the responder would take away the way back
        (enable_app).
        """
        if isinstance(source, dict):
            stanza = source
        else:
            stanza = conf_files.read_conf(source, SETTINGS_CONF).get("response", {}) if source else {}
        listed = {part.strip().lower() for part in re.split(r"[\s,;]+", stanza.get("protected_app_ids") or "")
                  if part.strip()}
        own = {account.client_id.lower() for account in accounts if getattr(account, "client_id", None)}
        days = _whole_number(stanza, "recent_use_days", DEFAULT_RECENT_USE_DAYS, minimum=0, unit="days")
        max_rows = _whole_number(stanza, "max_rows_per_run", DEFAULT_MAX_ROWS_PER_RUN, minimum=1, unit="rows")
        return cls(protected_app_ids=frozenset(listed | own), recent_use_days=days, max_rows_per_run=max_rows,
                   tenant_accounts=_tenant_accounts(stanza.get("tenant_accounts") or ""))


def _tenant_accounts(text):
    """`tenant_id=account, tenant_id=account` -> {tenant_id (lower case): account}."""
    pairs = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        tenant, sep, account = (piece.strip() for piece in part.partition("="))
        if not sep or not tenant or not account:
            raise ConfigError(f"[response] tenant_accounts in {SETTINGS_CONF}.conf must be tenant_id=account pairs "
                              f"separated by commas, e.g. contoso.onmicrosoft.com=prod; fix {part!r}")
        pairs[tenant.lower()] = account
    return pairs


def _whole_number(stanza, key, default, *, minimum, unit):
    text = (stanza.get(key) or str(default)).strip()
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ConfigError(f"[response] {key} = {text!r} in {SETTINGS_CONF}.conf must be a whole number of "
                          f"{unit}, {minimum} or more")
    return value


def over_limit_refusal(row_number, settings):
    """Rows past [response] max_rows_per_run are refused (and audited), not acted on."""
    if row_number <= settings.max_rows_per_run:
        return None
    return (f"this run already acted on {settings.max_rows_per_run} rows, the [response] max_rows_per_run "
            f"limit in {SETTINGS_CONF}.conf; nothing changed for this row. Narrow the search that triggered "
            f"the action, or raise the limit")


# --- the result of one action ----------------------------------------------------------------------------
@dataclass
class Outcome:
    action: str
    outcome: str
    message: str
    target: Target
    dry_run: bool = False
    forced: bool = False
    app_name: Optional[str] = None
    object_type: Optional[str] = None
    object_id: Optional[str] = None
    snapshot: Optional[dict] = None
    graph_error_code: Optional[str] = None
    graph_request_id: Optional[str] = None
    details: dict = field(default_factory=dict)

    @property
    def status(self):
        return "success" if self.outcome in SUCCESSFUL_OUTCOMES else "failure"


def failed_outcome(action, target, exc, *, dry_run=False, forced=False):
    """An Outcome for an error raised while acting: Graph's code and request id, never a secret."""
    outcome = Outcome(action, ERROR, "", target, dry_run=dry_run, forced=forced,
                      object_type=target.object_type, object_id=target.object_id, app_name=target.app_name)
    if isinstance(exc, GraphError):
        outcome.graph_error_code = exc.code or (str(exc.status) if exc.status else None)
        outcome.graph_request_id = exc.request_id
        outcome.message = f"Microsoft Graph answered {exc}"
    elif isinstance(exc, AuthenticationError):
        outcome.message = f"sign-in to Entra ID failed: {exc}"
    elif isinstance(exc, TargetError):
        outcome.outcome, outcome.message = REFUSED, f"refused: {exc}"
    elif isinstance(exc, AddonError):
        outcome.message = str(exc)
    else:
        # An unexpected exception's text is not vetted; its type is enough here, the log has the rest.
        outcome.message = f"unexpected {type(exc).__name__}; see the add-on's response log"
    return outcome


# --- pure safety rules ---------------------------------------------------------------------------------
def protected_refusal(app_id, settings):
    if app_id.lower() in settings.protected_app_ids:
        return (f"app {app_id} is protected (one of the add-on's own accounts, or listed in "
                f"[response] protected_app_ids): refused, nothing changed")
    return None


def app_id_refusal(graph_object, target, object_type):
    found = str(graph_object.get("appId") or "").lower()
    if found != target.app_id:
        return (f"{object_type} {graph_object.get('id')} belongs to app {found or '(none)'}, not to the "
                f"finding's app {target.app_id}: refused, nothing changed")
    return None


def find_password_credential(graph_object, key_id):
    for credential in graph_object.get("passwordCredentials") or []:
        if str(credential.get("keyId") or "").lower() == key_id:
            return credential
    return None


def snapshot_of(graph_object, object_type):
    """What the object looked like before the change: credential metadata and accountEnabled only."""
    snapshot = {
        "object_type": object_type,
        "object_id": graph_object.get("id"),
        "app_id": graph_object.get("appId"),
        "display_name": graph_object.get("displayName"),
        "password_credentials": [{name: c.get(name) for name in _PASSWORD_FIELDS}
                                 for c in graph_object.get("passwordCredentials") or []],
        "key_credentials": [{name: c.get(name) for name in _KEY_FIELDS}
                            for c in graph_object.get("keyCredentials") or []],
    }
    if object_type == "servicePrincipal":
        snapshot["account_enabled"] = graph_object.get("accountEnabled")
    return snapshot


def recent_use_refusal(last_used, now, days, forced):
    """Refuse to remove a secret used within `days` days unless forced; (refusal or None, note)."""
    if last_used is None:
        return None, "no sign-in with this secret is on record"
    age = now - last_used
    when = f"last used {iso(last_used)} ({_describe_age(age)} ago)"
    if days and age < datetime.timedelta(days=days):
        if forced:
            return None, f"{when}, within recent_use_days={days}; removed anyway because force is set"
        return (f"secret was {when}, within the last {days} days (recent_use_days): whatever signs in with it "
                f"would break. Rotate it first, or set force=1 to remove it anyway; nothing changed"), when
    return None, when


def _describe_age(age):
    hours = age.total_seconds() / 3600
    if hours < 48:
        return f"{max(hours, 0):.0f} hours"
    return f"{int(hours // 24)} days"


def describe_secret(credential):
    hint = credential.get("hint")
    parts = [f"key id {credential.get('keyId')}"]
    if hint:
        parts.append(f"hint {hint}***")
    if credential.get("endDateTime"):
        parts.append(f"expires {credential.get('endDateTime')}")
    name = credential.get("displayName")
    return (f"secret {name!r} " if name else "secret ") + f"({', '.join(parts)})"


# --- Graph lookups -----------------------------------------------------------------------------------
def _get_object(graph, object_type, object_id=None, app_id=None):
    """GET an application or service principal by object id, or by appId when no id is known."""
    collection = COLLECTIONS[object_type]
    path = f"/{collection}/{object_id}" if object_id else f"/{collection}(appId='{app_id}')"
    return graph.get(path, params={"$select": _SELECT[object_type]})


def _get_object_or_none(graph, object_type, object_id=None, app_id=None):
    try:
        return _get_object(graph, object_type, object_id, app_id)
    except GraphNotFound:
        return None


def _locate_secret_holder(graph, target):
    """(object type, object) the finding names; without an object type, the application first."""
    if target.object_type:
        return target.object_type, _get_object(graph, target.object_type, target.object_id, target.app_id)
    application = _get_object_or_none(graph, "application", None, target.app_id)
    if application is not None and find_password_credential(application, target.key_id):
        return "application", application
    try:
        return "servicePrincipal", _get_object(graph, "servicePrincipal", None, target.app_id)
    except GraphNotFound:
        if application is None:
            raise
        return "application", application


def _other(object_type):
    return "servicePrincipal" if object_type == "application" else "application"


def last_use_from_graph(graph, key_id):
    """Latest sign-in with this key id from Graph's beta appCredentialSignInActivities report, or None."""
    answer = graph.get("/reports/appCredentialSignInActivities", params={"$filter": f"keyId eq '{key_id}'"},
                       api="beta")
    # The documented examples answer a $filter with a bare object instead of {"value": [...]}.
    records = answer.get("value", [answer]) if isinstance(answer, dict) else []
    times = [parse_time((r.get("signInActivity") or {}).get("lastSignInDateTime"))
             for r in records if isinstance(r, dict) and str(r.get("keyId") or "").lower() == key_id]
    times = [t for t in times if t]
    return max(times) if times else None


# --- the journal: recognises a repeated removal ------------------------------------------------------------
def _journal_key(tenant_id, key_id):
    return f"removed-secret:{(tenant_id or '').lower()}:{key_id}"


class Journal:
    """Removals this add-on made, kept in a CheckpointStore, so that a repeat is told apart from a
    key id that was never on the object (Graph keeps no trace of a removed secret on the object).

    Under splunkd both stores are KV-store collections, shared by every search head cluster member.
    `snapshots` (optional) keeps each object as it was before a change, written before the Graph call
    (state `pending`) and marked with the outcome after it: a run killed in between leaves the record."""

    def __init__(self, store, snapshots=None):
        self.store = store
        self.snapshots = snapshots

    def removed(self, tenant_id, key_id):
        return self.store.load(_journal_key(tenant_id, key_id)) if self.store else None

    def record_removal(self, tenant_id, key_id, document):
        if self.store:
            self.store.save(_journal_key(tenant_id, key_id), document)

    def keep_snapshot(self, action, tenant_id, result, now):
        """Save result.snapshot before the change; returns its key (None without a snapshot store)."""
        if not self.snapshots or not result.snapshot:
            return None
        key = (f"{COMMANDS[action]}:{(tenant_id or '').lower()}:{result.object_id}:{result.target.key_id or '-'}:"
               f"{iso(now)}")
        self.snapshots.save(key, {"state": "pending", "action": COMMANDS[action], "tenant_id": tenant_id,
                                  "object_type": result.object_type, "object_id": result.object_id,
                                  "app_id": result.target.app_id, "key_id": result.target.key_id,
                                  "taken_at": iso(now), "snapshot": result.snapshot})
        return key

    def snapshot_done(self, key, outcome):
        if not key:
            return
        document = self.snapshots.load(key) or {}
        document.update(state=outcome)
        self.snapshots.save(key, document)


# --- the actions -------------------------------------------------------------------------------------
def _tenant_refusal(target, tenant_id):
    if target.tenant_id and tenant_id and _GUID.match(target.tenant_id) and _GUID.match(tenant_id) \
            and target.tenant_id.lower() != tenant_id.lower():
        return (f"the finding is from tenant {target.tenant_id} but the account signs in to {tenant_id}: "
                f"refused, nothing changed")
    return None


def remove_secret(graph, target, settings, *, dry_run=False, force=False, journal=None, now=None,
                  tenant_id=None):
    """Remove one password credential (by key id) from the application or service principal holding it."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    result = Outcome(REMOVE_SECRET, REFUSED, "", target, dry_run=dry_run, forced=force,
                     app_name=target.app_name, object_type=target.object_type, object_id=target.object_id)
    refusal = protected_refusal(target.app_id, settings) or _tenant_refusal(target, tenant_id)
    if refusal:
        return _refused(result, refusal)

    try:
        object_type, holder = _locate_secret_holder(graph, target)
    except GraphNotFound:
        journal_entry = journal.removed(target.tenant_id, target.key_id) if journal else None
        if not journal_entry:
            raise  # reported with Graph's code and request id
        return _already_done(result, f"already removed: this add-on removed key id {target.key_id} on "
                                     f"{journal_entry.get('removed_at')}, and the object no longer exists; "
                                     f"nothing to do")
    result.object_type, result.object_id = object_type, holder.get("id")
    result.app_name = holder.get("displayName") or target.app_name
    refusal = app_id_refusal(holder, target, object_type)
    if refusal:
        return _refused(result, refusal)
    result.snapshot = snapshot_of(holder, object_type)

    credential = find_password_credential(holder, target.key_id)
    if credential is None:
        return _secret_not_on_object(graph, target, result, object_type, holder, journal)
    refusal, use_note = _last_use_check(graph, target, settings, now, force, result)
    if refusal:
        return _refused(result, f"{describe_secret(credential)}: {refusal}")

    what = (f"{describe_secret(credential)} from {object_type} {result.app_name!r} ({result.object_id}); "
            f"{use_note}; {len(holder.get('passwordCredentials') or []) - 1} other secret(s) and "
            f"{len(holder.get('keyCredentials') or [])} certificate(s) stay")
    request = f"/{COLLECTIONS[object_type]}/{result.object_id}/removePassword"
    if dry_run:
        result.outcome = DRY_RUN
        result.message = (f"dry run: would remove {what} (POST {request} keyId={target.key_id}). "
                          f"Nothing changed")
        return result
    # kept before the change: a run killed after the Graph call still leaves what the object looked like
    snapshot_key = journal.keep_snapshot(REMOVE_SECRET, target.tenant_id or tenant_id, result, now) if journal \
        else None
    try:
        graph.post(request, {"keyId": target.key_id})
    except GraphNotFound as exc:
        # Between our read and the removal someone else removed it (or the object): the goal holds.
        result.graph_error_code, result.graph_request_id = exc.code, exc.request_id
        if journal:
            journal.snapshot_done(snapshot_key, ALREADY_DONE)
        return _already_done(result, f"already gone: Graph answered 404 {exc.code} to the removal of "
                                     f"{describe_secret(credential)}; it was removed meanwhile, nothing more to do")
    result.outcome, result.message = CHANGED, f"removed: {what}. Note: {NO_RESTORE_NOTE}"
    if journal:
        _record_after_change(result, lambda: journal.record_removal(target.tenant_id, target.key_id, {
            "removed_at": iso(now), "object_type": object_type, "object_id": result.object_id,
            "app_id": target.app_id}))
        _record_after_change(result, lambda: journal.snapshot_done(snapshot_key, CHANGED))
    return result


def _record_after_change(result, record):
    """The change is made: a journal that cannot be written must not turn it into a failure. The audit
    event says so, since a repeat of this removal may then not be recognised as one."""
    try:
        record()
    except AddonError as exc:
        log.error("response.journal_not_written", action=result.action, object_id=result.object_id, error=str(exc))
        result.message += f". Warning: the change is made but its record could not be kept ({exc})"


def _refused(result, message):
    result.outcome, result.message = REFUSED, message
    return result


def _already_done(result, message):
    result.outcome, result.message = ALREADY_DONE, message
    return result


def _last_use_check(graph, target, settings, now, force, result):
    """(refusal or None, note on the last use): the finding's last_used, else Graph's report."""
    if target.last_used_known:
        last_used = parse_time(target.last_used)
    else:
        try:
            last_used = last_use_from_graph(graph, target.key_id)
        except GraphError as exc:
            if force:
                return None, f"last use unknown (Graph: {exc.code or exc.status}); force is set"
            result.graph_error_code, result.graph_request_id = exc.code or None, exc.request_id
            return (f"the finding has no last_used and Graph could not say when the secret was last used "
                    f"({exc}); refused, nothing changed. Act on the finding event (it carries last_used), or "
                    f"set force=1 to remove it anyway"), None
    result.details["last_used"] = iso(last_used) if last_used else None
    return recent_use_refusal(last_used, now, settings.recent_use_days, force)


def _secret_not_on_object(graph, target, result, object_type, holder, journal):
    """The key id is not on the object: a repeat of our own removal, the other object, or a mismatch."""
    journal_entry = journal.removed(target.tenant_id, target.key_id) if journal else None
    if journal_entry and journal_entry.get("object_id") == holder.get("id"):
        result.outcome = ALREADY_DONE
        result.message = (f"already removed: this add-on removed key id {target.key_id} from {object_type} "
                          f"{result.app_name!r} ({holder.get('id')}) on {journal_entry.get('removed_at')}; "
                          f"nothing to do")
        return result
    sibling_type = _other(object_type)
    sibling = _get_object_or_none(graph, sibling_type, None, target.app_id)
    if sibling is not None and find_password_credential(sibling, target.key_id):
        result.message = (f"key id {target.key_id} is on the {sibling_type} object {sibling.get('id')} of this "
                          f"app, not on the {object_type} {holder.get('id')} the finding names: refused, "
                          f"nothing changed; act on a finding that names the {sibling_type}")
        return result
    result.message = (f"key id {target.key_id} is not a secret of {object_type} {result.app_name!r} "
                      f"({holder.get('id')}) nor of its {sibling_type}: refused, nothing changed. If it was "
                      f"removed outside this add-on there is nothing left to do")
    return result


def _locate_service_principal(graph, target):
    if target.object_type == "servicePrincipal" and target.object_id:
        return _get_object(graph, "servicePrincipal", target.object_id)
    return _get_object(graph, "servicePrincipal", None, target.app_id)


def set_account_enabled(graph, target, settings, enabled, *, dry_run=False, tenant_id=None, journal=None, now=None):
    """PATCH accountEnabled on the app's service principal in this tenant (stops or allows every sign-in)."""
    action = ENABLE_APP if enabled else DISABLE_APP
    result = Outcome(action, REFUSED, "", target, dry_run=dry_run, app_name=target.app_name,
                     object_type="servicePrincipal")
    # Enabling is the way back, so only disabling is refused for protected apps.
    refusal = (None if enabled else protected_refusal(target.app_id, settings)) or _tenant_refusal(target, tenant_id)
    if refusal:
        result.message = refusal
        return result
    principal = _locate_service_principal(graph, target)
    result.object_id = principal.get("id")
    result.app_name = principal.get("displayName") or target.app_name
    refusal = app_id_refusal(principal, target, "servicePrincipal")
    if refusal:
        result.message = refusal
        return result
    result.snapshot = snapshot_of(principal, "servicePrincipal")
    verb = "enable" if enabled else "disable"
    subject = f"service principal {result.app_name!r} ({result.object_id}, app {target.app_id})"
    if principal.get("accountEnabled") is enabled:
        result.outcome = ALREADY_DONE
        result.message = f"already {verb}d: {subject} has accountEnabled={str(enabled).lower()}; nothing to do"
        return result
    change = (f"set accountEnabled={str(enabled).lower()} on {subject}, now "
              f"{str(principal.get('accountEnabled')).lower()}")
    if dry_run:
        result.outcome = DRY_RUN
        result.message = (f"dry run: would {change} (PATCH /servicePrincipals/{result.object_id} "
                          f"accountEnabled={str(enabled).lower()}). Nothing changed")
        return result
    now = now or datetime.datetime.now(datetime.timezone.utc)
    snapshot_key = journal.keep_snapshot(action, target.tenant_id or tenant_id, result, now) if journal else None
    graph.patch(f"/servicePrincipals/{result.object_id}", {"accountEnabled": enabled})
    result.outcome = CHANGED
    if enabled:
        result.message = f"enabled: {change}; the app can sign in again"
    else:
        result.message = (f"disabled: {change}; every sign-in of the app in this tenant now fails. "
                          f"Undo with the entra_enable_app action")
    if journal:
        _record_after_change(result, lambda: journal.snapshot_done(snapshot_key, CHANGED))
    return result


def disable_app(graph, target, settings, *, dry_run=False, tenant_id=None, journal=None, now=None, **_):
    return set_account_enabled(graph, target, settings, False, dry_run=dry_run, tenant_id=tenant_id,
                               journal=journal, now=now)


def enable_app(graph, target, settings, *, dry_run=False, tenant_id=None, journal=None, now=None, **_):
    return set_account_enabled(graph, target, settings, True, dry_run=dry_run, tenant_id=tenant_id,
                               journal=journal, now=now)


ACTIONS = {REMOVE_SECRET: remove_secret, DISABLE_APP: disable_app, ENABLE_APP: enable_app}


def run_action(action, graph, target, settings, *, dry_run=False, force=False, journal=None, now=None,
               tenant_id=None):
    """Run one action; any error becomes a failed Outcome (one bad target never stops the others)."""
    try:
        if action == REMOVE_SECRET:
            return remove_secret(graph, target, settings, dry_run=dry_run, force=force, journal=journal,
                                 now=now, tenant_id=tenant_id)
        return ACTIONS[action](graph, target, settings, dry_run=dry_run, tenant_id=tenant_id, journal=journal,
                               now=now)
    except Exception as exc:  # noqa: BLE001 - reported per target, see failed_outcome
        if not isinstance(exc, AddonError):
            log.exception("response.unexpected_error", action=action, app_id=target.app_id, key_id=target.key_id)
        return failed_outcome(action, target, exc, dry_run=dry_run, forced=force)


# --- the audit record ----------------------------------------------------------------------------------
def audit_fields(outcome, *, account_name=None, tenant_id=None, graph_host=None, invocation=None):
    """The entra:app:response event body (cim.response_event) for one outcome.

    `invocation` says who and what triggered the action: user, src (the Splunk server), search_name,
    orig_sid, orig_rid, result_id. For disable/enable (CIM Account_Management) `user` is the app that
    was changed and `src_user` who changed it; a secret removal keeps `user` = who triggered it.
    """
    invocation = invocation or {}
    target = outcome.target
    removing = outcome.action == REMOVE_SECRET
    app_label = outcome.app_name or target.app_name or target.app_id
    command = COMMANDS[outcome.action]
    event = cim.response_event(
        account=account_name, tenant_id=target.tenant_id or tenant_id, command=command,
        action="deleted" if removing else "modified", status=outcome.status, outcome=outcome.outcome,
        result=outcome.message, app_id=target.app_id, app_name=app_label,
        object_type=outcome.object_type or target.object_type, object_id=outcome.object_id or target.object_id,
        object_attrs=["passwordCredentials"] if removing else ["accountEnabled"],
        object_category="application" if removing else "user", graph_host=graph_host,
        user=invocation.get("user") if removing else app_label, src=invocation.get("src"),
        key_id=target.key_id, result_id=invocation.get("result_id"), orig_sid=invocation.get("orig_sid"),
        orig_rid=invocation.get("orig_rid"), search_name=invocation.get("search_name"),
        dry_run=outcome.dry_run, forced=outcome.forced, graph_error_code=outcome.graph_error_code,
        graph_request_id=outcome.graph_request_id, snapshot=outcome.snapshot)
    event["orig_action_name"] = command
    if not removing:
        event["src_user"] = invocation.get("user")
    event["last_used"] = outcome.details.get("last_used", target.last_used)
    return event
