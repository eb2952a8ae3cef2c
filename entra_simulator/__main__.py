"""python -m entra_simulator --size demo --port 0 --state-dir DIR

Starts the simulator in the foreground for the demo and the benchmarks and writes DIR/simulator.json
(base URL, tenant id, CA path, the sign-in apps' client ids and certificate paths; the file appears
only once the server accepts connections, so a caller can wait for it). Each app's client secret goes
to its own DIR/<name>.secret file (mode 0600), never into simulator.json or the log. Stops cleanly on
SIGINT or SIGTERM and removes simulator.json.
"""

from __future__ import annotations
import argparse
import json
import logging
import os
import signal
import sys
import threading

from entra_simulator.model import SIZES, generate_tenant
from entra_simulator.server import Simulator


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m entra_simulator",
        description="Run the Entra ID / Microsoft Graph tenant simulator on loopback HTTPS.")
    parser.add_argument("--size", choices=SIZES, default="demo", help="tenant size (default demo)")
    parser.add_argument("--seed", type=int, default=7, help="tenant generator seed (default 7)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (default)")
    parser.add_argument("--state-dir", required=True, metavar="DIR",
                        help="where simulator.json, the CA, the server certificate and the app keys are written")
    parser.add_argument("--throttle", default="off", metavar="off|graph|JSON",
                        help="off (default), graph (documented limits) or a JSON object of limits, "
                             'e.g. \'{"scale": 0.1}\'')
    parser.add_argument("--token-lifetime", type=float, default=3600, help="access token lifetime in seconds")
    parser.add_argument("--record-signins", action="store_true",
                        help="log every token request of the sign-in apps in auditLogs/signIns, as Entra does")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME[:JSON]",
                        help='switch a fault knob on, e.g. http_503:{"count": 3, "retry_after": 0.5}')
    parser.add_argument("--log-level", default="INFO", type=str.upper,
                        choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    return parser


def _throttle_option(text):
    if text == "off":
        return None
    if text == "graph":
        return "graph"
    return json.loads(text)


def _faults(specs):
    faults = {}
    for spec in specs:
        name, _, params = spec.partition(":")
        faults[name] = json.loads(params) if params else {}
    return faults


def _write_private(path, text):
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(text)


def write_state_file(simulator, state_dir):
    info = simulator.info()
    for name, identity in simulator.identities.items():
        secret_path = os.path.join(state_dir, f"{name}.secret")
        _write_private(secret_path, identity.secret)
        info["identities"][name]["secret_path"] = secret_path
    path = os.path.join(state_dir, "simulator.json")
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(info, handle, indent=2)
    os.replace(temporary, path)  # readers never see half a file
    return path


def main(argv=None):
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    state_dir = os.path.abspath(args.state_dir)
    os.makedirs(state_dir, exist_ok=True)
    try:
        throttle, faults = _throttle_option(args.throttle), _faults(args.fault)
    except ValueError as error:
        print(f"python -m entra_simulator: error: bad --throttle or --fault JSON: {error}", file=sys.stderr)
        return 2
    tenant = generate_tenant(args.size, seed=args.seed, workdir=os.path.join(state_dir, "identities"))
    simulator = Simulator(tenant=tenant, throttle=throttle, faults=faults, token_lifetime=args.token_lifetime,
                          host=args.host, port=args.port, state_dir=state_dir, record_signins=args.record_signins)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    simulator.start()
    state_file = write_state_file(simulator, state_dir)
    logging.getLogger("entra_simulator").info("serving %s tenant %s at %s; state in %s", args.size,
                                              simulator.tenant_id, simulator.base_url, state_file)
    try:
        while not stop.wait(0.5):  # short waits keep the main thread responsive to signals
            pass
    finally:
        simulator.stop()
        try:
            os.remove(state_file)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
