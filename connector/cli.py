"""entra-app-secrets: the add-on's core, run outside Splunk.

Each subcommand only parses arguments here and hands them to the module that owns the job, imported
late so that `--help` works without the runtime dependencies loaded.
"""
import argparse
import importlib
import sys

from connector import __version__

# Exit codes a script can rely on (README "CLI"). scan and demo: 0 no finding, 1 findings, 2 usage or
# configuration error, 3 the scan failed or was partial. respond: 0 done, 1 refused or failed, 2 usage.
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3
EXIT_CODES_HELP = ("Exit status: 0 no finding, 1 findings, 2 usage or configuration error, "
                   "3 the scan failed or was partial.")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
CLOUDS = ("global", "usgov", "dod", "china")


class _Parser(argparse.ArgumentParser):
    """argparse prints the whole usage on error; a person wants one line that says what to fix."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"entra-app-secrets: error: {message} (see --help)\n")


def _add_common(parser, terminal_logging=True):
    if not terminal_logging:   # respond: JSON lines on stderr at INFO, its audit record on stdout
        parser.add_argument("--log-level", default=None, type=str.upper, choices=LOG_LEVELS,
                            help="how much to log on stderr (default INFO)")
        return
    parser.add_argument("--log-level", default=None, type=str.upper, choices=LOG_LEVELS,
                        help="how much to log (default WARNING at a terminal, where a progress line shows "
                             "the run, else INFO)")
    parser.add_argument("--log-format", default="auto", choices=("auto", "json", "text"),
                        help="log lines as JSON or text (default auto: text at a terminal, JSON when stderr "
                             "is not a terminal or with --log-file)")
    parser.add_argument("--log-file", metavar="FILE", help="write the log to FILE (JSON lines, rotated) "
                        "instead of stderr")


def _add_account_options(parser):
    group = parser.add_argument_group(
        "account", "name a configured account with --account, or give the tenant on the command line")
    group.add_argument("--account", help="account stanza in ta_entra_app_secrets_account.conf")
    group.add_argument("--app-dir", help="the Splunk app folder holding local/ta_entra_app_secrets_account.conf "
                       "(default: $SPLUNK_HOME/etc/apps/TA-entra-app-secrets)")
    group.add_argument("--tenant-id", help="directory (tenant) ID: a GUID or a verified domain")
    group.add_argument("--client-id", help="application (client) ID the add-on signs in as")
    group.add_argument("--certificate", metavar="PEM",
                       help="PEM file holding the private key and the certificate (recommended); "
                            "without it the secret is read from $ENTRA_CLIENT_SECRET")
    group.add_argument("--cloud", choices=CLOUDS, default="global", help="national cloud (default global)")
    group.add_argument("--authority-host", metavar="URL", help="override the sign-in host (private endpoint, simulator)")
    group.add_argument("--graph-host", metavar="URL", help="override the Microsoft Graph host")
    group.add_argument("--ca-bundle", metavar="PATH", help="CA bundle to trust; wins over REQUESTS_CA_BUNDLE")
    group.add_argument("--proxy", metavar="URL", help="HTTPS proxy for sign-in and Graph")


def build_parser():
    parser = _Parser(
        prog="entra-app-secrets",
        description="Find Microsoft Entra apps that authenticate with client secrets (CTD-000008), "
                    "show how each secret is used and what it can reach, and remove it or disable the app.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    scan = sub.add_parser("scan", help="harvest one tenant and write CTD-000008 findings and inventory events",
                          description="Sign in to Microsoft Graph, harvest applications, service principals, "
                                      "their credentials, permissions and service-principal sign-ins, and write "
                                      "HEC-shaped JSON events. " + EXIT_CODES_HELP)
    _add_account_options(scan)
    scan.add_argument("--state-dir", metavar="DIR", help="where checkpoints are kept between runs "
                      "(default ./entra-app-secrets-state)")
    scan.add_argument("--signin-lookback-hours", type=int, metavar="N", default=None,
                      help="how far back the first run reads sign-ins (default 24)")
    scan.add_argument("--signin-overlap-minutes", type=int, metavar="N", default=None,
                      help="how far behind the last run each run reads again for sign-ins Graph publishes "
                           "late (1-240, default 60)")
    scan.add_argument("--output", metavar="FILE", default="-", help="where events go: a file or - for stdout")
    _add_common(scan)

    respond = sub.add_parser("respond", help="remove a secret, disable an app or re-enable it",
                             description="Act on one finding through Microsoft Graph, with the same safety "
                                         "checks as the Splunk response actions. Exit status: 0 done (or "
                                         "nothing to do), 1 refused or failed, 2 usage or configuration error.")
    respond_sub = respond.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    respond_sub.required = True
    for name, helptext in (("remove-secret", "remove one client secret by key id"),
                           ("disable-app", "set accountEnabled=false on the service principal"),
                           ("enable-app", "set accountEnabled=true again (rollback)")):
        action = respond_sub.add_parser(name, help=helptext, description=helptext)
        _add_account_options(action)
        action.add_argument("--app-id", required=True, help="application (client) ID of the target app")
        action.add_argument("--object-type", choices=("application", "servicePrincipal"), default=None,
                            help="which object holds the secret (remove-secret)")
        action.add_argument("--object-id", help="object ID of the application or service principal")
        if name == "remove-secret":
            action.add_argument("--key-id", required=True, help="keyId of the password credential to remove")
        action.add_argument("--dry-run", action="store_true", help="show what would change and change nothing")
        action.add_argument("--force", action="store_true", help="remove a secret even if it was used recently")
        action.add_argument("--state-dir", metavar="DIR", help="where removals are journaled so a repeat is "
                            "recognised (default ./entra-app-secrets-state)")
        _add_common(action, terminal_logging=False)

    demo = sub.add_parser("demo", help="start the simulated demo tenant and scan it",
                          description="Start the built-in Entra/Graph simulator with the demo tenant, scan it "
                                      "as the modular input would, and print the findings. " + EXIT_CODES_HELP)
    demo.add_argument("--output", metavar="FILE", default=None, help="also write the events to this file")
    demo.add_argument("--seed", type=int, default=7, help="tenant generator seed (default 7)")
    _add_common(demo)

    return parser


# subcommand -> (module, function); each function takes the parsed args and returns an exit code
HANDLERS = {
    "scan": ("connector.scan_cli", "cli_scan"),
    "respond": ("connector.respond.cli", "cli_respond"),
    "demo": ("connector.demo", "cli_demo"),
}


def main(argv=None):
    args = build_parser().parse_args(argv)
    module_name, function_name = HANDLERS[args.command]
    handler = getattr(importlib.import_module(module_name), function_name)
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
