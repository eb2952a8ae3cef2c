"""`entra-app-secrets respond remove-secret|disable-app|enable-app`: one target named by flags."""
import getpass
import json
import os
import sys
from urllib.parse import urlsplit

from connector import conf_files, config
from connector.checkpoint import FileCheckpointStore
from connector.errors import ConfigError
from connector.graph.client import open_client
from connector.logs import configure_logging, redact
from connector.respond.actions import (DISABLE_APP, ENABLE_APP, REMOVE_SECRET, Journal, ResponseSettings, Target,
                                       TargetError, audit_fields, run_action)
from connector.splunk.events import default_host

CLI_ACTIONS = {"remove-secret": REMOVE_SECRET, "disable-app": DISABLE_APP, "enable-app": ENABLE_APP}


def cli_respond(args, *, graph_factory=None, stdout=None, stderr=None):
    """Act on one target named by flags; print its audit record (JSON) and the outcome. Exit 0/1/2."""
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    configure_logging(args.log_level)
    action = CLI_ACTIONS[args.action]
    try:
        account = config.account_from_cli(args)
        app_dir = args.app_dir or conf_files.default_app_dir()
        configured = config.load_accounts(app_dir, check_files=False) if app_dir and os.path.isdir(app_dir) else {}
        settings = ResponseSettings.load(app_dir, [account, *configured.values()])
        target = Target.from_fields({
            "tenant_id": account.tenant_id, "app_id": args.app_id, "object_type": args.object_type,
            "object_id": args.object_id, "key_id": getattr(args, "key_id", None)}, action)
    except (ConfigError, TargetError) as exc:
        print(f"entra-app-secrets: error: {exc}", file=stderr)
        return 2
    graph = (graph_factory or open_client)(account)
    journal = Journal(FileCheckpointStore(os.path.join(args.state_dir or "entra-app-secrets-state",
                                                       "response_journal")))
    outcome = run_action(action, graph, target, settings, dry_run=args.dry_run, force=args.force,
                         journal=journal, tenant_id=account.tenant_id)
    event = redact(audit_fields(outcome, account_name=account.name, tenant_id=account.tenant_id,
                                graph_host=urlsplit(account.graph_root).hostname,
                                invocation={"user": getpass.getuser(), "src": default_host()}))
    print(json.dumps(event, ensure_ascii=False, default=str), file=stdout)
    print(f"{outcome.outcome}: {outcome.message}", file=stderr)
    return 0 if outcome.status == "success" else 1
