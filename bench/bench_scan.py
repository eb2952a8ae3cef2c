"""Benchmark the scan against the simulator, and against a naive collector measured in the same run.

    python bench/bench_scan.py                 # demo and medium
    python bench/bench_scan.py --sizes demo medium large
    python bench/bench_scan.py --json out.json

For each tenant size it prints wall time, Graph requests per directory object, peak Python memory
(tracemalloc) and process RSS, events per second, and the ratio to a baseline collector written the
obvious way (list everything with default pages and no $select, then one GET per object for its
federated credentials, owners and app role assignments, all sign-ins collected into a list before
correlating). Both go through the same GraphClient, MSAL sign-in and simulator, so the difference is
the access pattern. A last measurement scans one tenant with a short and a long sign-in window: peak
memory must not grow with the number of sign-ins.

The simulator runs in this process (a thread), without throttling: the numbers measure the add-on's
request pattern and CPU, not Graph's limits. Its own memory is excluded from tracemalloc's peak by
generating objects lazily; RSS includes it.
"""
import argparse
import datetime as dt
import gc
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from connector import correlate  # noqa: E402
from connector.auth import TokenProvider, session_for  # noqa: E402
from connector.checkpoint import MemoryCheckpointStore  # noqa: E402
from connector.config import Account  # noqa: E402
from connector.events import EventWriter  # noqa: E402
from connector.graph import GraphClient  # noqa: E402
from connector.logs import configure_logging  # noqa: E402
from connector.scan import ScanSettings, run_scan  # noqa: E402
from connector.streams import signin_filter  # noqa: E402
from entra_simulator import Simulator, generate_tenant  # noqa: E402

LOOKBACK_HOURS = 24 * 30   # the whole simulated sign-in log


class CountingWriter(EventWriter):
    def _write(self, hec):
        pass


def account_for(simulator):
    collector = simulator.collector
    return Account(name="bench", tenant_id=simulator.tenant_id, client_id=collector.client_id,
                   authority_host=simulator.base_url, graph_host=simulator.base_url, ca_bundle=simulator.ca_path,
                   certificate_path=collector.certificate_path)


def client_for(account):
    return GraphClient(account, TokenProvider(account, session_for(account)))


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measured(function):
    """(result, seconds, tracemalloc peak MiB) of one call."""
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = function()
    finally:
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, elapsed, peak / 2 ** 20


def addon_scan(simulator, lookback_hours=LOOKBACK_HOURS):
    account = account_for(simulator)
    client = client_for(account)
    writer = CountingWriter()
    try:
        summary = run_scan(account, MemoryCheckpointStore(), writer,
                           ScanSettings(signin_lookback_hours=lookback_hours), client=client)
    finally:
        client.close()
    return {"requests": client.stats.requests, "events": sum(writer.counts.values()),
            "findings": summary.counts.get("findings", 0), "signins": summary.counts.get("signins_new", 0),
            "status": summary.status}


def naive_scan(simulator, lookback_hours=LOOKBACK_HOURS):
    """What one writes first: list everything, then GET each object's details, keep every sign-in."""
    account = account_for(simulator)
    client = client_for(account)
    try:
        applications = list(client.iter_items("/applications"))
        principals = list(client.iter_items("/servicePrincipals"))
        details = {}
        for application in applications:
            details[application["id"]] = (
                client.get(f"/applications/{application['id']}/federatedIdentityCredentials").get("value", []),
                client.get(f"/applications/{application['id']}/owners").get("value", []))
        for principal in principals:
            details[principal["id"]] = client.get(f"/servicePrincipals/{principal['id']}/appRoleAssignments")
        now = dt.datetime.now(dt.timezone.utc)
        lower = correlate.iso(now - dt.timedelta(hours=lookback_hours))
        signins = list(client.iter_items("/auditLogs/signIns", api="beta",
                                         params={"$filter": signin_filter(lower, correlate.iso(now))}))
        usage = correlate.UsageTracker(lookback_hours)
        for record in signins:
            usage.add_signin(record)
        secrets = sum(1 for obj in applications + principals
                      for c in correlate.credentials_of(obj, "application") if c.is_secret)
    finally:
        client.close()
    return {"requests": client.stats.requests, "events": len(signins) + secrets, "findings": secrets,
            "signins": len(signins), "status": "success"}


def bench_size(size, seed, include_baseline):
    with tempfile.TemporaryDirectory(prefix=f"bench-{size}-") as workdir:
        tenant = generate_tenant(size, seed=seed, workdir=workdir)
        objects = tenant.application_count + tenant.service_principal_count
        with Simulator(tenant=tenant) as simulator:
            row = {"size": size, "objects": objects, "signins_in_log": tenant.signin_count}
            result, seconds, peak = measured(lambda: addon_scan(simulator))
            row["addon"] = dict(result, seconds=round(seconds, 2), peak_mib=round(peak, 1),
                                requests_per_object=round(result["requests"] / objects, 4),
                                events_per_s=round(result["events"] / seconds, 1), rss_mib=round(rss_mib(), 1))
            if include_baseline:
                simulator.reset()
                result, seconds, peak = measured(lambda: naive_scan(simulator))
                row["naive"] = dict(result, seconds=round(seconds, 2), peak_mib=round(peak, 1),
                                    requests_per_object=round(result["requests"] / objects, 4),
                                    events_per_s=round(result["events"] / seconds, 1))
                row["ratio"] = {
                    "seconds": round(row["naive"]["seconds"] / row["addon"]["seconds"], 2),
                    "requests": round(row["naive"]["requests"] / row["addon"]["requests"], 2),
                    "peak_mib": round(row["naive"]["peak_mib"] / max(row["addon"]["peak_mib"], 0.01), 2),
                }
            return row


def bench_signin_growth(size, seed):
    """Same tenant, short and long sign-in window: the peak must not follow the sign-in count."""
    with tempfile.TemporaryDirectory(prefix="bench-growth-") as workdir:
        tenant = generate_tenant(size, seed=seed, workdir=workdir)
        with Simulator(tenant=tenant) as simulator:
            rows = []
            for hours in (1, LOOKBACK_HOURS):
                simulator.reset()
                result, seconds, peak = measured(lambda: addon_scan(simulator, lookback_hours=hours))
                rows.append({"lookback_hours": hours, "signins": result["signins"], "peak_mib": round(peak, 1),
                             "seconds": round(seconds, 2)})
            return {"size": size, "runs": rows}


def print_table(rows, growth):
    print(f"{'size':<8}{'objects':>9}{'sign-ins':>10} | {'who':<6}{'wall s':>8}{'requests':>10}{'req/obj':>9}"
          f"{'peak MiB':>10}{'events/s':>11} | ratio naive/addon (time, requests, peak)")
    for row in rows:
        for who in ("addon", "naive"):
            if who not in row:
                continue
            m = row[who]
            ratio = row.get("ratio") if who == "naive" else None
            print(f"{row['size']:<8}{row['objects']:>9}{m['signins']:>10} | {who:<6}{m['seconds']:>8}"
                  f"{m['requests']:>10}{m['requests_per_object']:>9}{m['peak_mib']:>10}{m['events_per_s']:>11} | "
                  + (f"{ratio['seconds']}x, {ratio['requests']}x, {ratio['peak_mib']}x" if ratio else ""))
    if growth:
        runs = growth["runs"]
        print(f"\nsign-in growth ({growth['size']}): " + "; ".join(
            f"{r['signins']} sign-ins -> peak {r['peak_mib']} MiB in {r['seconds']} s" for r in runs))
    print(f"process max RSS {rss_mib():.0f} MiB (includes the in-process simulator)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["demo", "medium"], choices=["demo", "medium", "large"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive collector (large: hours)")
    parser.add_argument("--growth-size", default="medium", help="tenant for the sign-in growth run ('' to skip)")
    parser.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")
    args = parser.parse_args(argv)
    configure_logging("WARNING")
    rows = [bench_size(size, args.seed, include_baseline=not args.no_baseline and size != "large")
            for size in args.sizes]
    growth = bench_signin_growth(args.growth_size, args.seed) if args.growth_size else None
    print_table(rows, growth)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"sizes": rows, "signin_growth": growth}, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
