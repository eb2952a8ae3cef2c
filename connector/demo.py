"""`entra-app-secrets demo`: start the simulated demo tenant in-process, scan it as the modular input
would (same run_scan, certificate sign-in through MSAL over HTTPS), print what was found.

The simulator is development tooling and never ships in the Splunk app; it is imported here only.
"""
import os
import sys
import tempfile

from connector.checkpoint import FileCheckpointStore
from connector.config import Account
from connector.splunk.events import CountingWriter, JsonLinesWriter
from connector.scan import ScanSettings, run_scan
from connector.scan_cli import format_summary


def demo_account(simulator):
    collector = simulator.collector
    return Account(name="demo", tenant_id=simulator.tenant_id, client_id=collector.client_id,
                   authority_host=simulator.base_url, graph_host=simulator.base_url, ca_bundle=simulator.ca_path,
                   certificate_path=collector.certificate_path)


def cli_demo(args):
    from connector.logs import configure_logging
    from entra_simulator import Simulator, generate_tenant

    configure_logging(args.log_level)
    writer = JsonLinesWriter.to_path(args.output) if args.output else CountingWriter()
    with tempfile.TemporaryDirectory(prefix="entra-demo-") as workdir:
        simulator = Simulator(tenant=generate_tenant("demo", seed=args.seed, workdir=os.path.join(workdir, "tenant")))
        simulator.start()
        try:
            print(f"Simulated tenant {simulator.tenant_id} at {simulator.base_url}; signing in as the collector app "
                  f"with its certificate and scanning...", file=sys.stderr)
            summary = run_scan(demo_account(simulator), FileCheckpointStore(os.path.join(workdir, "state")), writer,
                               ScanSettings())
        finally:
            writer.close()
            simulator.stop()
    print(format_summary(summary))
    written = ", ".join(f"{count} {sourcetype}" for sourcetype, count in sorted(writer.counts.items()))
    print(f"\nevents: {written}" + (f" -> {args.output}" if args.output else " (use --output FILE to keep them)"))
    return 0
