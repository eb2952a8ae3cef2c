"""Alert action entra_reset_checkpoint: an admin resets one input's checkpoints from Splunk Web.

    | sendalert entra_reset_checkpoint param.account="contoso" param.part="signins"

typed into the search bar runs `bin/entra_reset_checkpoint.py --execute` exactly as splunkd runs every alert
action (the same payload as the response actions), on Splunk Cloud Platform too: no shell, no file access
and no REST handler needed. The user's session must hold `entra_app_secrets_reset_checkpoint` (admin and
sc_admin by default), checked through splunkd before anything is deleted. The input's checkpoints are
keyed by the account it names, so `account` is the input's account; `part` is signins, posture, inventory
or all (default). The next run of the input starts that part afresh: `signins` re-reads the sign-in
lookback window (signin_lookback_hours), `posture` re-emits every finding, `inventory` makes the next run
a full harvest. Run it while the input is idle (between intervals): a run in progress saves its own
position when it commits.
"""
import os
import sys
from types import SimpleNamespace

from connector import scan
from connector.errors import AddonError, ConfigError
from connector.logs import configure_logging, get_logger
from connector.splunk import access, kvstore
from connector.splunk.alert_action import EXIT_FAILURES, EXIT_OK, EXIT_USAGE, Payload, PayloadError
from connector.splunk.modaction import ModActionLog

COMMAND = "entra_reset_checkpoint"
PARTS = {"signins": scan.signin_key, "posture": scan.posture_key, "inventory": scan.inventory_key}
log = get_logger("ta_entra_app_secrets.reset_checkpoint")


def checkpoint_keys(configuration):
    """The KV-store keys to delete; ConfigError naming the parameter to fix."""
    account = str(configuration.get("account") or "").strip()
    if not account:
        raise ConfigError("param.account is required: the account named by the input whose checkpoint to reset, "
                          'e.g. | sendalert entra_reset_checkpoint param.account="contoso"')
    part = str(configuration.get("part") or "all").strip().lower()
    if part != "all" and part not in PARTS:
        raise ConfigError(f"param.part must be signins, posture, inventory or all, not {part!r}")
    named = SimpleNamespace(name=account)
    return [PARTS[name](named) for name in (PARTS if part == "all" else [part])]


def reset(payload, store):
    """Delete the checkpoints the payload names; returns (user, [(key, existed)])."""
    caller = access.current_caller(payload.server_uri, payload.session_key)
    refusal = access.refusal(caller, access.RESET_CAPABILITY, "reset an input's checkpoint")
    if refusal:
        raise PermissionError(refusal)
    done = []
    for key in checkpoint_keys(payload.configuration):
        existed = store.exists(key)
        store.delete(key)
        done.append((key, existed))
    return caller.username, done


def main(argv, stdin, *, environ=None, store_factory=None):
    environ = os.environ if environ is None else environ
    if not argv or argv[0] != "--execute":
        sys.stderr.write(f"FATAL {COMMAND}: splunkd runs alert actions with --execute and the payload on stdin\n")
        return EXIT_USAGE
    splunk_home = environ.get("SPLUNK_HOME")
    if not splunk_home:
        sys.stderr.write(f"FATAL {COMMAND}: SPLUNK_HOME is not set; run this script from splunkd\n")
        return EXIT_USAGE
    configure_logging("INFO", splunk_log_name="reset_checkpoint")
    try:
        payload = Payload.from_json(stdin.read())
    except PayloadError as exc:
        sys.stderr.write(f"ERROR {COMMAND}: {exc}\n")
        return EXIT_USAGE
    modactions = ModActionLog(splunk_home, COMMAND, payload)
    modactions.message("Invoking modular action")
    try:
        store = (store_factory or kvstore.checkpoint_store)(payload.server_uri, payload.session_key)
        user, done = reset(payload, store)
    except (AddonError, PermissionError) as exc:
        log.error("reset.refused" if isinstance(exc, PermissionError) else "reset.failed", error=str(exc))
        modactions.message(str(exc)[:300], status="failure")
        modactions.close()
        sys.stderr.write(f"ERROR {COMMAND}: {exc}\n")
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_FAILURES
    for key, existed in done:
        log.info("reset.checkpoint", key=key, existed=existed, user=user)
        sys.stderr.write(f"INFO {COMMAND}: checkpoint {key} {'reset' if existed else 'was not set'} by {user}\n")
        modactions.message(f"checkpoint {key} {'reset' if existed else 'was not set'}", status="success",
                           checkpoint=key)
    modactions.close()
    return EXIT_OK
