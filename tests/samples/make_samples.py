"""Regenerate the sample events in tests/samples/ from the simulator, with the add-on's own code.

    .venv/bin/python tests/samples/make_samples.py          # rewrite the samples
    .venv/bin/python tests/samples/make_samples.py --check  # generate into a temp dir, compare shapes

Nothing here is hand-written: the demo tenant is scanned by connector.scan.run_scan (the modular
input's core) into HEC-shaped JSON lines; the response actions run against the same tenant through
connector.respond.actions and write their audit events with the alert actions' own StashWriter, exactly the
spool files splunkd would index. A scan as the simulator's "limited" identity (fewer Graph
permissions) gives a harvest event that carries errors.

A few events of each shape are kept (per severity and object type, per credential type and status,
per authentication method and outcome), so the samples stay small and cover every variant.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

SAMPLES_DIR = Path(__file__).resolve().parent
PER_SHAPE = 2
HOST = "splunk-sh1"
SAMPLE_FILES = {
    "entra:app:finding": "entra_app_finding.jsonl",
    "entra:app:credential": "entra_app_credential.jsonl",
    "entra:signin:serviceprincipal": "entra_signin_serviceprincipal.jsonl",
    "entra:harvest": "entra_harvest.jsonl",
    "entra:app:response": "entra_app_response.stash",
}
# What makes two events of a sourcetype "the same shape" for sampling.
SHAPE = {
    "entra:app:finding": lambda e: (e["severity"], e["object_type"], e["is_collector_app"], bool(e["last_used"])),
    "entra:app:credential": lambda e: (e["credential_type"], e["object_type"], e["status"]),
    "entra:signin:serviceprincipal": lambda e: (e.get("authentication_method"), e["action"]),
    "entra:harvest": lambda e: (e["status"], e["auth_method"]),
}


def account_for(sim, identity, name):
    from connector.config import Account
    return Account(name=name, tenant_id=sim.tenant_id, client_id=identity.client_id,
                   authority_host=sim.base_url, graph_host=sim.base_url, ca_bundle=sim.ca_path,
                   certificate_path=identity.certificate_path)


def scan_events(sim, identity, name, state_dir):
    from connector.checkpoint import FileCheckpointStore
    from connector.splunk.events import ListWriter
    from connector.scan import ScanSettings, run_scan
    writer = ListWriter()
    run_scan(account_for(sim, identity, name), FileCheckpointStore(state_dir), writer,
             ScanSettings(host=HOST, signin_lookback_hours=48))
    return writer.events


def sample(events):
    """Up to PER_SHAPE events of each shape, in the order the code wrote them."""
    seen, kept = Counter(), []
    for hec in events:
        shape = (hec["sourcetype"], SHAPE[hec["sourcetype"]](hec["event"]))
        if seen[shape] < PER_SHAPE:
            kept.append(hec)
        seen[shape] += 1
    return kept


def response_stash(sim, findings, work_dir):
    """Run remove/disable/enable (plus a dry run, a refusal and a Graph 403) and return the spool
    files' text."""
    from connector.respond import actions
    from connector.splunk.alert_action import StashWriter
    from connector.scan import open_client

    responder = account_for(sim, sim.responder, "demo_responder")
    # the "limited" app may read but not write: its change is answered 403 by Graph
    read_only = account_for(sim, sim.limited, "demo_read_only")
    settings = actions.ResponseSettings(protected_app_ids=frozenset({sim.collector.client_id.lower()}))
    stash = StashWriter(str(work_dir), host=HOST)
    on_app = next(f for f in findings if f["object_type"] == "application" and not f["is_collector_app"])
    on_sp = next(f for f in findings if f["object_type"] == "servicePrincipal")
    collector = next((f for f in findings if f["is_collector_app"]), None)
    plan = [
        (responder, actions.REMOVE_SECRET, on_app, {"dry_run": True}),
        (responder, actions.REMOVE_SECRET, on_sp, {"force": True}),
        (responder, actions.DISABLE_APP, on_app, {}),
        (responder, actions.ENABLE_APP, on_app, {}),
        (read_only, actions.DISABLE_APP, on_app, {}),
    ]
    if collector:
        plan.append((responder, actions.REMOVE_SECRET, collector, {"force": True}))   # refused: protected
    clients = {account.name: open_client(account) for account in (responder, read_only)}
    try:
        for row_number, (account, action, finding, flags) in enumerate(plan):
            target = actions.Target.from_fields(finding, action)
            outcome = actions.run_action(action, clients[account.name], target, settings,
                                         tenant_id=sim.tenant_id, **flags)
            event = actions.audit_fields(
                outcome, account_name=account.name, tenant_id=sim.tenant_id,
                graph_host=urlsplit(account.graph_root).hostname,
                invocation={"user": "analyst", "src": HOST, "search_name": "sample generator",
                            "orig_sid": "scheduler__admin__sample", "orig_rid": str(row_number),
                            "result_id": str(row_number)})
            stash.write(event, source=f"entra_app_secrets://{account.name}")
    finally:
        for client in clients.values():
            client.close()
    spool = Path(work_dir, "var", "spool", "splunk")
    return "".join(path.read_text(encoding="utf-8") for path in sorted(spool.iterdir()))


def generate(out_dir: Path) -> None:
    from entra_simulator import Simulator

    with tempfile.TemporaryDirectory() as work, Simulator() as sim:
        work = Path(work)
        events = scan_events(sim, sim.collector, "demo", work / "state")
        events += [e for e in scan_events(sim, sim.limited, "demo_limited", work / "limited")
                   if e["sourcetype"] == "entra:harvest"]
        kept = sample(events)
        findings = [e["event"] for e in events if e["sourcetype"] == "entra:app:finding"]
        stash_text = response_stash(sim, findings, work / "splunk_home")
        texts = {name: "" for name in SAMPLE_FILES.values()}
        for hec in kept:
            texts[SAMPLE_FILES[hec["sourcetype"]]] += json.dumps(hec, sort_keys=False) + "\n"
        texts[SAMPLE_FILES["entra:app:response"]] = stash_text
        _refuse_leaks(sim, texts)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (out_dir / name).write_text(text, encoding="utf-8")


def _refuse_leaks(sim, texts) -> None:
    """The samples are committed: no secret value, key or token may be in them."""
    forbidden = ["-----BEGIN", "eyJ0eXAi", "eyJhbGci", "client_assertion", "Bearer "]
    forbidden += [identity.secret for identity in sim.identities.values() if getattr(identity, "secret", None)]
    for name, text in texts.items():
        for needle in forbidden:
            if needle in text:
                raise SystemExit(f"refusing to write {name}: it contains a secret or token")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLES_DIR)
    args = parser.parse_args(argv)
    generate(args.out)
    for name in SAMPLE_FILES.values():
        lines = (args.out / name).read_text(encoding="utf-8").count("\n")
        print(f"{name}: {lines} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
