"""The modular input's work, as splunkd runs it: the stanza's parameters -> ScanSettings, its account read
through splunkd's REST API with the session key splunkd hands the script (connector/splunk/settings.py),
checkpoints in the KV store (splunkd's checkpoint_dir without a session key), events as <stream> XML. No
file of the app is read."""
from connector.checkpoint import FileCheckpointStore
from connector.config import ACCOUNT_CONF, Account, validate_account
from connector.errors import ConfigError
from connector.logs import get_logger
from connector.scan import (INPUT_NUMBER_PARAMETERS, POSTURE_MODES, ScanSettings, number_setting, report_unstartable_run,
                            run_scan)
from connector.splunk import kvstore
from connector.splunk import settings as splunk_settings
from connector.splunk.events import SplunkStreamWriter

log = get_logger("connector.splunk.modinput")


def input_settings(params, host=None, own_app_ids=()):
    """ScanSettings from a modular input stanza's parameters; ConfigError says which one is wrong."""
    values = {}
    for name in INPUT_NUMBER_PARAMETERS:
        raw = (params.get(name) or "").strip() if isinstance(params.get(name), str) else params.get(name)
        if raw in (None, ""):
            continue
        values[name] = number_setting(name, raw)
    mode = (params.get("posture_mode") or "").strip().lower()
    if mode:
        if mode not in POSTURE_MODES:
            raise ConfigError(f"posture_mode must be one of {', '.join(POSTURE_MODES)}, not {mode!r}")
        values["posture_mode"] = mode
    if host:
        values["host"] = host
    return ScanSettings(own_app_ids=frozenset(own_app_ids), **values)


def account_name(params):
    name = (params.get("account") or "").strip()
    if not name:
        raise ConfigError(f"account is required: the name of an account (Configuration > Accounts, a stanza of "
                          f"{ACCOUNT_CONF}.conf)")
    return name


def input_account(metadata, params, *, splunkd=None, check_files=True):
    """The account a stanza names, read through splunkd and checked; only that account is validated:
    a mistake in another account belongs to that account's input."""
    name = account_name(params)
    splunkd = splunkd or splunk_settings.Splunkd(metadata.get("server_uri"), metadata.get("session_key"))
    account = splunk_settings.read_account(None, None, name, splunkd=splunkd)
    return validate_account(account, check_files=check_files)


def _configured_client_ids(splunkd):
    """client_id of every configured account (the add-on's own sign-in apps), as written."""
    stanzas = splunk_settings.account_stanzas(splunkd)
    return {values["client_id"].strip() for values in stanzas.values() if (values.get("client_id") or "").strip()}


def checkpoint_store(metadata):
    """Under splunkd (a session key), the KV store: the cursor follows the input to any node. Without one
    (a test harness, a hand run), splunkd's checkpoint_dir."""
    if metadata.get("session_key"):
        return kvstore.checkpoint_store(metadata.get("server_uri"), metadata["session_key"])
    return FileCheckpointStore(metadata["checkpoint_dir"])


def run_input(stanza, params, metadata, event_writer):
    """One modular-input stanza, as splunkd runs it: account and settings through splunkd's REST API,
    checkpoints in the KV store, events as <stream> XML.

    A run that cannot start (no such account, a field to fix, splunkd refusing) still writes its
    entra:harvest event with the sentence that says what to fix, then raises it for the script's log."""
    host = params.get("host") or metadata.get("server_host")
    store = checkpoint_store(metadata)
    writer = SplunkStreamWriter(event_writer, stanza=stanza, index=params.get("index"))
    try:
        splunkd = splunk_settings.Splunkd(metadata.get("server_uri"), metadata.get("session_key"))
        account = input_account(metadata, params, splunkd=splunkd)
        settings = input_settings(params, host=host, own_app_ids=_configured_client_ids(splunkd))
    except ConfigError as error:
        report_unstartable_run(_account_for_report(metadata, params), kvstore.BestEffortStore(store), writer,
                               ScanSettings(**({"host": host} if host else {})), error)
        raise
    return run_scan(account, store, writer, settings)


def _account_for_report(metadata, params):
    """The account as configured (no secret), or just its name: enough to name it in a health event."""
    name = (params.get("account") or "").strip() or "unknown"
    try:
        fields = splunk_settings.account_stanza(metadata.get("server_uri"), metadata.get("session_key"), name)
    except ConfigError:
        fields = None
    fields = fields or {}
    return Account(name=name, tenant_id=(fields.get("tenant_id") or "").strip(),
                   client_id=(fields.get("client_id") or "").strip())
