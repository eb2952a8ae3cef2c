"""`entra-app-secrets demo`: start the simulated demo tenant in-process, scan it as the modular input
would (same run_scan, certificate sign-in through MSAL over HTTPS), and print what was checked, what
was found and where the events went.

The simulator is development tooling and never ships in the Splunk app; it is imported here only.
Exit codes as `scan` (the demo tenant holds client secrets on purpose, so a good demo exits 1).
"""
import os
import sys
import tempfile

from connector import console
from connector.assess.score import SIGNATURE, SIGNATURE_ID
from connector.checkpoint import FileCheckpointStore
from connector.config import Account
from connector.errors import ConfigError
from connector.scan import EXIT_USAGE, ScanSettings
from connector.scan_cli import format_errors, format_summary, scan_with_display
from connector.splunk.events import CountingWriter, JsonLinesWriter

THREAT_SEVERITY = "medium"   # the threat's own rating; each finding is scored on its facts

COLUMNS = (
    ("SEVERITY", "the finding's severity, from its SCORE (0-100): critical >= 90, high >= 70, medium >= 40, "
                 "low >= 20"),
    ("ON", "the object holding the secret: application (the registration) or servicePrincipal (its "
           "instance in this tenant)"),
    ("APP", "the app's display name"),
    ("KEY ID", "the secret's keyId, what `respond remove-secret --key-id` takes"),
    ("WHY", "the risk factors that raised the score (risk_factors in the entra:app:finding event)"),
)


def demo_account(simulator):
    collector = simulator.collector
    return Account(name="demo", tenant_id=simulator.tenant_id, client_id=collector.client_id,
                   authority_host=simulator.base_url, graph_host=simulator.base_url, ca_bundle=simulator.ca_path,
                   certificate_path=collector.certificate_path)


def introduction(tenant_id, settings):
    """What the demo checked, before the table: a newcomer must see the threat, not only severities."""
    lines = [f'{SIGNATURE_ID} "{SIGNATURE}" (threat severity {THREAT_SEVERITY})',
             f"Checked: every application and service principal of the simulated tenant {tenant_id} for client "
             "secrets (password credentials and symmetric keys); for each secret, its service-principal "
             f"sign-ins in the last {settings.signin_lookback_hours} hours (last use, source IPs), its expiry, "
             "and what it can reach (application permissions, directory roles, owners, certificates or "
             "federated credentials beside it).",
             "Columns:"]
    lines += [f"  {name:<9}{meaning}" for name, meaning in COLUMNS]
    return "\n".join(lines)


def where_events_went(writer, output):
    total = sum(writer.counts.values())
    written = ", ".join(f"{count} {sourcetype}" for sourcetype, count in sorted(writer.counts.items()))
    if output:
        return f"events: {total} written to {os.path.abspath(output)} ({written})"
    return f"events: {total} ({written}), not kept: use --output FILE to keep them as JSON lines"


def cli_demo(args, *, stdout=None, stderr=None):
    from entra_simulator import Simulator, generate_tenant

    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        console.setup_logging(args, stderr)
    except ConfigError as error:
        console.error(error, stderr)
        return EXIT_USAGE
    try:
        writer = JsonLinesWriter.to_path(args.output) if args.output else CountingWriter()
    except OSError as error:
        console.error(f"--output {args.output} cannot be written ({error.strerror or error})", stderr)
        return EXIT_USAGE
    settings = ScanSettings()
    with tempfile.TemporaryDirectory(prefix="entra-demo-") as workdir:
        simulator = Simulator(tenant=generate_tenant("demo", seed=args.seed, workdir=os.path.join(workdir, "tenant")))
        simulator.start()
        try:
            print(f"Simulated tenant {simulator.tenant_id} at {simulator.base_url}; signing in as the collector app "
                  f"with its certificate and scanning...", file=stderr)
            summary = scan_with_display(demo_account(simulator), FileCheckpointStore(os.path.join(workdir, "state")),
                                        writer, settings, stderr)
        finally:
            writer.close()
            simulator.stop()
    print(introduction(simulator.tenant_id, settings), file=stdout)
    print("", file=stdout)
    print(format_summary(summary), file=stdout)
    print("\n" + where_events_went(writer, args.output), file=stdout)
    for line in format_errors(summary):
        print(line, file=stderr)
    return summary.exit_code
