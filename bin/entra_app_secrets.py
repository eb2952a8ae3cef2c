"""Modular input entra_app_secrets: splunkd runs it with --scheme, --validate-arguments, or with the
input definition XML on stdin. Thin wiring only: the work is in connector.splunk.modinput and connector.scan.
"""
import os
import sys

# The app's vendored dependencies and the connector package live in ../lib.
APP_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(APP_DIR, "lib"))

from splunklib.modularinput import Argument, EventWriter, Scheme, Script  # noqa: E402

from connector.splunk import modinput, settings  # noqa: E402
from connector.errors import AddonError  # noqa: E402
from connector.logs import configure_logging, get_logger  # noqa: E402

LOG_NAME = "entra_app_secrets"


def _argument(name, title, description, data_type=Argument.data_type_string, required=False):
    argument = Argument(name, title=title, description=description, data_type=data_type,
                        required_on_create=required, required_on_edit=False)
    return argument


class EntraAppSecretsInput(Script):
    def get_scheme(self):
        scheme = Scheme("Entra ID apps with client secrets (CTD-000008)")
        scheme.description = ("Harvests Microsoft Entra applications, service principals, their credentials and "
                              "service-principal sign-ins through Microsoft Graph, and writes a finding per client secret.")
        scheme.use_external_validation = True
        scheme.use_single_instance = False
        scheme.add_argument(_argument("account", "Account", "An account from Configuration > Accounts",
                                      required=True))
        scheme.add_argument(_argument("signin_lookback_hours", "Sign-in lookback (hours)",
                                      "How far back the first run reads sign-ins; also the window for use counts "
                                      "(1-720, default 24)", Argument.data_type_number))
        scheme.add_argument(_argument("signin_overlap_minutes", "Sign-in overlap (minutes)",
                                      "How far behind the last run each run reads again, for sign-ins Graph "
                                      "publishes late (1-240, default 60)", Argument.data_type_number))
        scheme.add_argument(_argument("posture_mode", "Posture mode",
                                      "full (default): every run writes every finding and credential; changes: only "
                                      "what changed, plus a full snapshot every snapshot_interval_hours"))
        scheme.add_argument(_argument("snapshot_interval_hours", "Snapshot interval (hours)",
                                      "changes mode: hours between full snapshots (default 24)",
                                      Argument.data_type_number))
        return scheme

    def validate_input(self, definition):
        # splunkd shows the exception text to the admin: it must say what to fix
        # (accounts come through splunkd's REST API with the session key it hands us, never from local/)
        modinput.input_settings(definition.parameters)
        modinput.input_account(definition.metadata, definition.parameters)

    def stream_events(self, inputs, ew):
        # [logging] loglevel from Splunk Web, read at every run: a change applies at the next run
        level = settings.log_level(inputs.metadata.get("server_uri"), inputs.metadata.get("session_key"),
                                   default=os.environ.get("TA_ENTRA_APP_SECRETS_LOG_LEVEL", "INFO"))
        for stanza, params in inputs.inputs.items():
            # splunkd starts one process per input: a log file each, so no two processes rotate one file
            try:
                configure_logging(level, splunk_log_name=f"{LOG_NAME}_{stanza.split('://', 1)[-1]}")
            except ValueError:  # a mistyped level must not stop the input
                configure_logging("INFO", splunk_log_name=f"{LOG_NAME}_{stanza.split('://', 1)[-1]}")
            log = get_logger("bin.entra_app_secrets")
            try:
                summary = modinput.run_input(stanza, params, inputs.metadata, ew)
                ew.log(EventWriter.INFO, f"{stanza}: {summary.status}, {summary.counts.get('findings', 0)} findings, "
                                         f"{summary.counts.get('signins_new', 0)} new sign-ins")
            except AddonError as error:
                log.error("input.failed", stanza=stanza, error=str(error))
                ew.log(EventWriter.ERROR, f"{stanza}: {error}")


if __name__ == "__main__":
    sys.exit(EntraAppSecretsInput().run(sys.argv))
