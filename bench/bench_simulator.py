"""How much the simulator itself costs: serve a tenant from one process and page through it.

    python bench/bench_simulator.py                    # large tenant, all applications, $top=999
    python bench/bench_simulator.py --size medium --collections applications servicePrincipals signIns

The simulator runs in a child process (python -m entra_simulator) so that its peak RSS is its own, read
from /proc/<pid>/status (VmHWM) when the walk ends. The client pages with one keep-alive connection,
as the add-on does. Prints one JSON line per collection and a summary.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
PATHS = {
    "applications": ("v1.0", "/applications?$top=999&$select=id,appId,displayName,passwordCredentials,keyCredentials"),
    "servicePrincipals": ("v1.0", "/servicePrincipals?$top=999&$select=id,appId,displayName,passwordCredentials,"
                                  "keyCredentials,accountEnabled"),
    "signIns": ("beta", "/auditLogs/signIns?$top=1000&$filter=signInEventTypes/any(t: t eq 'servicePrincipal')"),
}


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


def start_simulator(size, seed, state_dir):
    process = subprocess.Popen([sys.executable, "-m", "entra_simulator", "--size", size, "--seed", str(seed),
                                "--state-dir", state_dir, "--log-level", "WARNING"], cwd=os.path.dirname(HERE))
    state_file = os.path.join(state_dir, "simulator.json")
    deadline = time.monotonic() + 300
    while not os.path.exists(state_file):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit("the simulator did not start")
        time.sleep(0.1)
    with open(state_file, encoding="utf-8") as handle:
        return process, json.load(handle)


def access_token(info, session):
    collector = info["identities"]["collector"]
    with open(collector["secret_path"], encoding="utf-8") as handle:
        secret = handle.read()
    response = session.post(f"{info['authority']}/oauth2/v2.0/token", verify=info["ca_path"], timeout=30,
                            data={"grant_type": "client_credentials", "client_id": collector["client_id"],
                                  "client_secret": secret, "scope": "https://graph.microsoft.com/.default"})
    response.raise_for_status()
    return response.json()["access_token"]


def walk(info, session, token, collection):
    api, path = PATHS[collection]
    url, pages, items, received = f"{info['base_url']}/{api}{path}", 0, 0, 0
    started = time.perf_counter()
    while url:
        response = session.get(url, headers={"Authorization": f"Bearer {token}"}, verify=info["ca_path"], timeout=120)
        response.raise_for_status()
        received += len(response.content)
        body = response.json()
        pages += 1
        items += len(body["value"])
        url = body.get("@odata.nextLink")
    elapsed = time.perf_counter() - started
    return {"collection": collection, "items": items, "pages": pages, "seconds": round(elapsed, 2),
            "requests_per_s": round(pages / elapsed, 1), "items_per_s": round(items / elapsed),
            "mb_received": round(received / 1e6, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="large", choices=("demo", "medium", "large"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--collections", nargs="+", default=["applications"], choices=sorted(PATHS))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as state_dir:
        started = time.perf_counter()
        process, info = start_simulator(args.size, args.seed, state_dir)
        startup = time.perf_counter() - started
        try:
            rss_idle = peak_rss_mb(process.pid)
            session = requests.Session()
            session.trust_env = False
            token = access_token(info, session)
            results = [walk(info, session, token, collection) for collection in args.collections]
            rss_peak = peak_rss_mb(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    for result in results:
        print(json.dumps(result))
    print(json.dumps({"size": args.size, "startup_s": round(startup, 1), "simulator_peak_rss_mb_after_start": rss_idle,
                      "simulator_peak_rss_mb": rss_peak}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
