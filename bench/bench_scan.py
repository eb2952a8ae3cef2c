"""Benchmark the scan against the simulator, and against a naive collector measured in the same run.

    python bench/bench_scan.py                 # demo and medium
    python bench/bench_scan.py --sizes demo medium large --no-baseline
    python bench/bench_scan.py --json out.json

For each tenant size the simulator runs in its own process (`python -m entra_simulator`), and every
measurement runs in a fresh child process, so wall time and peak RSS are the collector's alone. It
prints wall time, Graph requests per directory object, peak RSS and peak Python heap (tracemalloc, a
second run of the same child), events per second, and the ratio to a baseline collector written the
obvious way (list everything with default pages and no $select, then one GET per object for its
federated credentials, owners and app role assignments, all sign-ins collected into a list before
correlating). Both go through the same GraphClient, MSAL sign-in and simulator, so the difference is
the access pattern. A last measurement scans one tenant with a short and a long sign-in window: peak
memory must not grow with the number of sign-ins. Throttling is off: the numbers measure the
collector, not Graph's limits. The simulator's own speed bounds the wall times (it builds every
object and sign-in on demand).
"""
import argparse
import datetime as dt
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from connector.assess import correlate  # noqa: E402
from connector import times  # noqa: E402
from connector.graph.auth import TokenProvider, session_for  # noqa: E402
from connector.checkpoint import MemoryCheckpointStore  # noqa: E402
from connector.config import Account  # noqa: E402
from connector.splunk.events import CountingWriter  # noqa: E402
from connector.graph.client import GraphClient  # noqa: E402
from connector.logs import configure_logging  # noqa: E402
from connector.scan import ScanSettings, run_scan  # noqa: E402
from connector.graph.streams import signin_filter  # noqa: E402
from entra_simulator import generate_tenant  # noqa: E402

LOOKBACK_HOURS = 24 * 30   # the whole simulated sign-in log


def account_for(info):
    return Account(name="bench", tenant_id=info["tenant_id"], client_id=info["collector_client_id"],
                   authority_host=info["base_url"], graph_host=info["base_url"], ca_bundle=info["ca_path"],
                   certificate_path=info["collector_certificate_path"])


def client_for(account):
    return GraphClient(account, TokenProvider(account, session_for(account)))


def addon_scan(info, lookback_hours, store=None):
    account = account_for(info)
    client = client_for(account)
    writer = CountingWriter()
    try:
        summary = run_scan(account, store or MemoryCheckpointStore(), writer,
                           ScanSettings(signin_lookback_hours=lookback_hours), client=client)
    finally:
        client.close()
    return {"requests": client.stats.requests, "events": sum(writer.counts.values()),
            "findings": summary.counts.get("findings", 0), "signins": summary.counts.get("signins_new", 0),
            "status": summary.status}


def naive_scan(info, lookback_hours):
    """What one writes first: list everything, then GET each object's details, keep every sign-in."""
    account = account_for(info)
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
        lower = times.iso(now - dt.timedelta(hours=lookback_hours))
        signins = list(client.iter_items("/auditLogs/signIns", api="beta",
                                         params={"$filter": signin_filter(lower, times.iso(now))}))
        usage = correlate.UsageTracker(lookback_hours)
        for record in signins:
            usage.add_signin(record)
        secrets = sum(1 for obj in applications + principals
                      for c in correlate.credentials_of(obj, "application") if c.is_secret)
    finally:
        client.close()
    return {"requests": client.stats.requests, "events": len(signins) + secrets, "findings": secrets,
            "signins": len(signins), "status": "success"}


def addon_second_scan(info, lookback_hours):
    """The run after a first one: sign-ins from the checkpoint, the inventory from the delta check."""
    store = MemoryCheckpointStore()
    addon_scan(info, lookback_hours, store)
    started = time.perf_counter()
    result = addon_scan(info, lookback_hours, store)
    result["second_run_seconds"] = round(time.perf_counter() - started, 2)
    return result


def child(args):
    """One measurement in this (fresh) process; prints its result as JSON on stdout."""
    configure_logging("WARNING")
    with open(args.sim, encoding="utf-8") as handle:
        info = json.load(handle)
    function = {"addon": addon_scan, "addon2": addon_second_scan, "naive": naive_scan}[args.child]
    print(json.dumps(run_measured(lambda: function(info, args.lookback), trace=args.trace)))
    return 0


def run_measured(work, *, trace):
    """Run work() in this (child) process; its result dict gains wall seconds and peak memory."""
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    result = work()
    result["seconds"] = round(time.perf_counter() - started, 2)
    if trace:
        result["heap_peak_mib"] = round(tracemalloc.get_traced_memory()[1] / 2 ** 20, 1)
    result["rss_peak_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def measure(who, sim_json, lookback, trace=False):
    command = [sys.executable, os.path.abspath(__file__), "--child", who, "--sim", sim_json,
               "--lookback", str(lookback)] + (["--trace"] if trace else [])
    done = subprocess.run(command, capture_output=True, text=True, timeout=6 * 3600)
    if done.returncode != 0:
        raise RuntimeError(f"{who} measurement failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class SimulatorProcess:
    """python -m entra_simulator in its own process; stopped with SIGTERM."""

    def __init__(self, size, seed):
        self.size, self.seed = size, seed

    def __enter__(self):
        self.state_dir = tempfile.mkdtemp(prefix=f"bench-sim-{self.size}-")
        self.path = os.path.join(self.state_dir, "simulator.json")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "entra_simulator", "--size", self.size, "--seed", str(self.seed),
             "--state-dir", self.state_dir, "--log-level", "WARNING"], cwd=os.path.dirname(HERE))
        deadline = time.monotonic() + 300
        while not os.path.exists(self.path):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("the simulator did not start")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def bench_size(size, seed, include_baseline, heap=True):
    with tempfile.TemporaryDirectory(prefix=f"bench-{size}-") as workdir:
        tenant = generate_tenant(size, seed=seed, workdir=workdir)
        objects = tenant.application_count + tenant.service_principal_count
        row = {"size": size, "objects": objects, "signins_in_log": tenant.signin_count}
    with SimulatorProcess(size, seed) as simulator:
        for who in ("addon", "naive") if include_baseline else ("addon",):
            result = measure(who, simulator.path, LOOKBACK_HOURS)
            result["heap_peak_mib"] = (measure(who, simulator.path, LOOKBACK_HOURS, trace=True)["heap_peak_mib"]
                                       if heap else None)
            result["requests_per_object"] = round(result["requests"] / objects, 4)
            result["events_per_s"] = round(result["events"] / result["seconds"], 1)
            row[who] = result
        second = measure("addon2", simulator.path, LOOKBACK_HOURS)
        row["addon_second_run"] = {"seconds": second["second_run_seconds"], "requests": second["requests"],
                                   "events": second["events"]}
    if include_baseline:
        row["ratio"] = {key: round(row["naive"][key] / max(row["addon"][key], 0.01), 2)
                        for key in ("seconds", "requests", "rss_peak_mib", "heap_peak_mib")}
    return row


def bench_signin_growth(size, seed):
    """Same tenant, short and long sign-in window: the peak must not follow the sign-in count."""
    with SimulatorProcess(size, seed) as simulator:
        runs = []
        # past one full page (1,000 sign-ins) the peak must stay flat: pages are folded, not kept
        for hours in (1, 72, 240, LOOKBACK_HOURS):
            result = measure("addon", simulator.path, hours, trace=True)
            runs.append({"lookback_hours": hours, "signins": result["signins"], "seconds": result["seconds"],
                         "heap_peak_mib": result["heap_peak_mib"], "rss_peak_mib": result["rss_peak_mib"]})
        return {"size": size, "runs": runs}


def print_table(rows, growth):
    print(f"{'size':<8}{'objects':>9}{'sign-ins':>10} | {'who':<6}{'wall s':>8}{'requests':>10}{'req/obj':>9}"
          f"{'RSS MiB':>9}{'heap MiB':>10}{'events/s':>10} | naive/addon: time, requests, RSS, heap")
    for row in rows:
        for who in ("addon", "naive"):
            if who not in row:
                continue
            m = row[who]
            ratio = row.get("ratio") if who == "naive" else None
            print(f"{row['size']:<8}{row['objects']:>9}{m['signins']:>10} | {who:<6}{m['seconds']:>8}"
                  f"{m['requests']:>10}{m['requests_per_object']:>9}{m['rss_peak_mib']:>9}{str(m['heap_peak_mib']):>10}"
                  f"{m['events_per_s']:>10} | "
                  + (f"{ratio['seconds']}x, {ratio['requests']}x, {ratio['rss_peak_mib']}x, {ratio['heap_peak_mib']}x"
                     if ratio else ""))
    for row in rows:
        if "addon_second_run" in row:
            second = row["addon_second_run"]
            print(f"{row['size']}: the next run (nothing changed) took {second['seconds']} s and "
                  f"{second['requests']} requests for {second['events']} events")
    if growth:
        print(f"\nsign-in growth ({growth['size']}): " + "; ".join(
            f"{r['signins']} sign-ins -> heap peak {r['heap_peak_mib']} MiB, RSS {r['rss_peak_mib']} MiB"
            for r in growth["runs"]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["demo", "medium"], choices=["demo", "medium", "large"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive collector")
    parser.add_argument("--growth-size", default="medium", help="tenant for the sign-in growth run ('' to skip)")
    parser.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")
    parser.add_argument("--no-heap", action="store_true", help="skip the traced second run (large: halves the time)")
    parser.add_argument("--child", choices=("addon", "addon2", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("--sim", help=argparse.SUPPRESS)
    parser.add_argument("--lookback", type=int, default=LOOKBACK_HOURS, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    rows = [bench_size(size, args.seed, include_baseline=not args.no_baseline and size != "large",
                       heap=not args.no_heap) for size in args.sizes]
    growth = bench_signin_growth(args.growth_size, args.seed) if args.growth_size else None
    print_table(rows, growth)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"sizes": rows, "signin_growth": growth}, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
