"""The natural baseline: what a user writes with Microsoft's Graph SDK instead of the add-on.

    .venv/bin/python bench/bench_sdk_baseline.py                  # demo and medium
    .venv/bin/python bench/bench_sdk_baseline.py --size medium    # one tenant
    .venv/bin/python bench/bench_sdk_baseline.py --no-heap        # skip the traced runs (they are slow)

The SDK collector is msgraph-sdk (v1.0) plus msgraph-beta-sdk (sign-ins exist only in beta), signed in
with azure-identity's CertificateCredential as the same collector app the add-on uses. It lists every
application and service principal (PageIterator, default pages), then GETs each application's
federatedIdentityCredentials and each service principal's appRoleAssignments one by one, then reads the
service-principal sign-ins of the same 30-day window the add-on reads, and counts client secrets.
The add-on's side is bench_scan.py's measurement of connector.scan.run_scan, taken in the same run
against the same simulator process, so the ratios compare like with like. Needs the `fidelity` extra.

Graph requests are counted at each client (the SDK's httpx hook; the add-on's GraphClient stats): the
simulator runs in its own process so that wall time and RSS are the collector's alone.
"""
import argparse
import asyncio
import collections
import datetime as dt
import json
import os
import ssl
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from bench_scan import LOOKBACK_HOURS, SimulatorProcess, measure as measure_addon, run_measured  # noqa: E402
from connector import times  # noqa: E402
from connector.logs import configure_logging  # noqa: E402
from connector.graph.streams import signin_filter  # noqa: E402
from entra_simulator import generate_tenant  # noqa: E402

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


class SdkCollector:
    """msgraph-sdk and msgraph-beta-sdk on one httpx client that trusts the simulator's CA and counts requests."""

    def __init__(self, info):
        import httpx
        from azure.identity import CertificateCredential
        from msgraph import GraphRequestAdapter, GraphServiceClient
        from msgraph_beta import GraphRequestAdapter as BetaRequestAdapter
        from msgraph_beta import GraphServiceClient as BetaServiceClient
        from msgraph_core import APIVersion, GraphClientFactory
        from msgraph_core.authentication import AzureIdentityAuthenticationProvider

        self.requests = 0
        base_url = info["base_url"]
        # connection_verify goes on each azure-core request, so REQUESTS_CA_BUNDLE cannot override it
        self.credential = CertificateCredential(info["tenant_id"], info["collector_client_id"],
                                                info["collector_certificate_path"], authority=base_url,
                                                disable_instance_discovery=True, connection_verify=info["ca_path"])
        self.http = httpx.AsyncClient(verify=ssl.create_default_context(cafile=info["ca_path"]), trust_env=False,
                                      event_hooks={"request": [self._count]})
        host = base_url.split("://", 1)[1].rsplit(":", 1)[0]

        def client(client_class, adapter_class, version):
            http = GraphClientFactory.create_with_default_middleware(api_version=version, client=self.http)
            auth = AzureIdentityAuthenticationProvider(self.credential, scopes=[GRAPH_SCOPE], allowed_hosts=[host])
            adapter = adapter_class(auth, http)
            adapter.base_url = f"{base_url}/{version.value}"
            return client_class(request_adapter=adapter)

        self.v1 = client(GraphServiceClient, GraphRequestAdapter, APIVersion.v1)
        self.beta = client(BetaServiceClient, BetaRequestAdapter, APIVersion.beta)

    async def _count(self, request):
        self.requests += 1

    async def close(self):
        await self.http.aclose()
        self.credential.close()


async def _each(client, first_page, visit):
    """visit(item) for every item of a collection, following nextLink with the SDK's PageIterator."""
    from msgraph_core.tasks.page_iterator import PageIterator
    await PageIterator(first_page, client.request_adapter).iterate(lambda item: visit(item) or True)


async def _all(client, first_page):
    items = []
    await _each(client, first_page, items.append)
    return items


async def sdk_scan(info, lookback_hours):
    """List everything, GET each object's details, read the sign-ins, count the secrets."""
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph_beta.generated.audit_logs.sign_ins.sign_ins_request_builder import SignInsRequestBuilder

    collector = SdkCollector(info)
    v1, beta = collector.v1, collector.beta
    try:
        applications = await _all(v1, await v1.applications.get())
        principals = await _all(v1, await v1.service_principals.get())
        details = 0
        for application in applications:
            answer = await v1.applications.by_application_id(application.id).federated_identity_credentials.get()
            details += len(answer.value)
        for principal in principals:
            answer = await v1.service_principals.by_service_principal_id(principal.id).app_role_assignments.get()
            details += len(answer.value)
        now = dt.datetime.now(dt.timezone.utc)
        window = signin_filter(times.iso(now - dt.timedelta(hours=lookback_hours)), times.iso(now))
        query = SignInsRequestBuilder.SignInsRequestBuilderGetQueryParameters(filter=window)
        first = await beta.audit_logs.sign_ins.get(request_configuration=RequestConfiguration(query_parameters=query))
        keys_used = collections.Counter()    # sign-ins are counted per credential, not kept
        await _each(beta, first, lambda record: keys_used.update([record.service_principal_credential_key_id]))
        signins = sum(keys_used.values())
        secrets = sum(len(obj.password_credentials or ()) for obj in applications + principals)
    finally:
        await collector.close()
    return {"requests": collector.requests, "events": signins + secrets, "findings": secrets, "signins": signins,
            "details": details, "status": "success"}


def child(args):
    """One SDK measurement in this (fresh) process; prints its result as JSON on stdout."""
    configure_logging("WARNING")    # azure-identity and httpx log every request at INFO
    with open(args.sim, encoding="utf-8") as handle:
        info = json.load(handle)
    print(json.dumps(run_measured(lambda: asyncio.run(sdk_scan(info, args.lookback)), trace=args.trace)))
    return 0


def measure_sdk(sim_json, lookback, trace=False):
    command = [sys.executable, os.path.abspath(__file__), "--child", "--sim", sim_json, "--lookback", str(lookback)]
    done = subprocess.run(command + (["--trace"] if trace else []), capture_output=True, text=True, timeout=6 * 3600)
    if done.returncode != 0:
        raise RuntimeError(f"SDK measurement failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_size(size, seed, heap, sdk_heap):
    with tempfile.TemporaryDirectory(prefix=f"bench-sdk-{size}-") as workdir:
        tenant = generate_tenant(size, seed=seed, workdir=workdir)
        row = {"size": size, "objects": tenant.application_count + tenant.service_principal_count}
    with SimulatorProcess(size, seed) as simulator:
        for who, run, traced in (
                ("addon", lambda trace: measure_addon("addon", simulator.path, LOOKBACK_HOURS, trace), heap),
                ("sdk", lambda trace: measure_sdk(simulator.path, LOOKBACK_HOURS, trace), sdk_heap)):
            result = run(False)
            result["heap_peak_mib"] = run(True)["heap_peak_mib"] if traced else None
            result["requests_per_object"] = round(result["requests"] / row["objects"], 4)
            row[who] = result
    row["ratio"] = {key: round(row["sdk"][key] / max(row["addon"][key], 0.01), 2)
                    for key in ("seconds", "requests", "rss_peak_mib", "heap_peak_mib")
                    if row["sdk"][key] is not None}
    return row


def print_table(rows):
    print(f"{'size':<8}{'objects':>9} | {'who':<6}{'wall s':>9}{'requests':>10}{'req/obj':>9}{'sign-ins':>10}"
          f"{'secrets':>9}{'RSS MiB':>9}{'heap MiB':>10} | sdk/addon: time, requests, RSS, heap")
    for row in rows:
        for who in ("addon", "sdk"):
            m = row[who]
            ratio = row["ratio"] if who == "sdk" else None
            print(f"{row['size']:<8}{row['objects']:>9} | {who:<6}{m['seconds']:>9}{m['requests']:>10}"
                  f"{m['requests_per_object']:>9}{m['signins']:>10}{m['findings']:>9}{m['rss_peak_mib']:>9}"
                  f"{str(m['heap_peak_mib']):>10} | "
                  + (", ".join(f"{ratio[key]}x" for key in ("seconds", "requests", "rss_peak_mib", "heap_peak_mib")
                               if key in ratio) if ratio else ""))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", nargs="+", default=["demo", "medium"], choices=["demo", "medium", "large"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-heap", action="store_true", help="skip the add-on's traced run")
    parser.add_argument("--sdk-heap", action="store_true",
                        help="also trace the SDK's heap: very slow (demo: over 10 minutes), because the beta "
                             "SDK runs ~2,400 import statements per signIn it reads and tracemalloc sees each")
    parser.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sim", help=argparse.SUPPRESS)
    parser.add_argument("--lookback", type=int, default=LOOKBACK_HOURS, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)
    rows = [bench_size(size, args.seed, heap=not args.no_heap, sdk_heap=args.sdk_heap) for size in args.size]
    print_table(rows)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
