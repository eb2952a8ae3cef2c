"""The modular input's work, as splunkd runs it: the stanza's parameters -> ScanSettings, its account
(secret from storage/passwords), checkpoints in the KV store (splunkd's checkpoint_dir without a session
key), events as <stream> XML."""
from connector.checkpoint import FileCheckpointStore
from connector.config import ACCOUNT_CONF, account_from_stanza, validate_account
from connector.errors import ConfigError
from connector.logs import get_logger
from connector.scan import (INPUT_NUMBER_PARAMETERS, POSTURE_MODES, ScanSettings, number_setting, report_unstartable_run,
                            run_scan)
from connector.splunk import kvstore, splunkd
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


def input_account(app_dir, params, *, check_files=True):
    """The account a stanza names, checked; ConfigError naming the configured ones when unknown.
    Only that stanza is validated: a mistake in another account's stanza belongs to that account's input."""

    name = (params.get("account") or "").strip()
    if not name:
        raise ConfigError("account is required: the name of a stanza in local/ta_entra_app_secrets_account.conf")
    stanzas = splunkd.read_conf(app_dir, ACCOUNT_CONF)
    if name not in stanzas:
        known = ", ".join(sorted(stanzas)) or "none configured yet"
        raise ConfigError(f"unknown account {name!r}: add a [{name}] stanza to {app_dir}/local/{ACCOUNT_CONF}.conf "
                          f"(accounts: {known})")
    return validate_account(account_from_stanza(name, stanzas[name]), check_files=check_files)


def _configured_client_ids(app_dir):
    """client_id of every configured account (the add-on's own sign-in apps), as written."""

    return {values["client_id"] for values in splunkd.read_conf(app_dir, ACCOUNT_CONF).values()
            if values.get("client_id")}


def checkpoint_store(metadata):
    """Under splunkd (a session key), the KV store: the cursor follows the input to any node. Without one
    (a test harness, a hand run), splunkd's checkpoint_dir."""
    if metadata.get("session_key"):
        return kvstore.checkpoint_store(metadata.get("server_uri"), metadata["session_key"])
    return FileCheckpointStore(metadata["checkpoint_dir"])


def run_input(app_dir, stanza, params, metadata, event_writer):
    """One modular-input stanza, as splunkd runs it: account from the app's conf (its secret, if any,
    from storage/passwords), checkpoints in splunkd's checkpoint_dir, events as <stream> XML.

    A run that cannot sign in (secret not movable or not readable) still writes its entra:harvest event
    with the message that says what to fix, then raises it for the script's log."""

    server_uri, session_key = metadata.get("server_uri"), metadata.get("session_key")
    host = params.get("host") or metadata.get("server_host")
    store = checkpoint_store(metadata)
    writer = SplunkStreamWriter(event_writer, stanza=stanza, index=params.get("index"))
    try:
        # a secret typed into the conf moves first: until it has, its account does not load
        splunkd.move_typed_in_secrets(server_uri, session_key, app_dir)
    except ConfigError as error:
        name = (params.get("account") or "").strip()
        if name not in splunkd.typed_in_secret_accounts(app_dir):
            # another account's secret: that account's input reports it; this one runs
            log.warning("input.other_secret_not_moved", account=name, error=str(error))
        else:
            report_unstartable_run(_account_as_configured(app_dir, name), kvstore.BestEffortStore(store), writer,
                                   ScanSettings(**({"host": host} if host else {})), error)
            raise
    account = input_account(app_dir, params)
    settings = input_settings(params, host=host, own_app_ids=_configured_client_ids(app_dir))
    if account.auth_method == "secret":
        try:
            account = account.with_secret(splunkd.secret_for_account(server_uri, session_key, account.name))
        except ConfigError as error:
            report_unstartable_run(account, kvstore.BestEffortStore(store), writer, settings, error)
            raise
    return run_scan(account, store, writer, settings)


def _account_as_configured(app_dir, name):
    """An account read as written, minus its typed-in secret: enough to name it in a health event."""

    values = splunkd.read_conf(app_dir, ACCOUNT_CONF)[name]
    return account_from_stanza(name, {key: value for key, value in values.items() if key != "client_secret"})
