"""State that follows the add-on across nodes: checkpoints, the response journal and snapshots in splunkd's
KV store, spoken to over HTTPS through splunklib against the fake splunkd (tests/fakes/splunkd_kvstore.py).

- the modular input run on "node A" and then on "node B" (another checkpoint_dir, the same splunkd)
  repeats no sign-in and loses none;
- a removal repeated from another search head cluster member (another SPLUNK_HOME, the same KV store)
  answers already_done;
- a chunked checkpoint cut off mid-write, or damaged afterwards, is detected and the input resumes from
  the last complete position;
- a user without entra_app_secrets_respond is refused through splunkd and Graph sees no request.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

from connector.checkpoint import CheckpointError
from connector.config import Account
from connector.scan import ScanSettings, run_scan
from connector.splunk import access, kvstore
from connector.splunk.events import ListWriter
from test_alert_actions import (APP, finding, findings, key_ids, run_action, sim,  # noqa: F401 - fixtures
                                splunk_home)
from test_modinput import LOOKBACK, app_dir, input_xml, run_script, stream_events  # noqa: F401 - fixture
import test_alert_actions
import test_modinput

CHECKPOINTS = kvstore.CHECKPOINTS
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def splunkd(tmp_path, sim):
    """One fake splunkd (one KV store) for every node of the test: the accounts of the alert-action tests
    (analyst1 may respond) and, through app_dir, the input's account."""
    fake = test_alert_actions.fake_splunkd_for(tmp_path, sim)
    test_modinput.SPLUNKD = fake
    yield fake
    fake.stop()
    test_modinput.SPLUNKD = None


def signin_ids(events):
    return [e["event"]["id"] for e in events if e["sourcetype"] == "entra:signin:serviceprincipal"]


# --- the input moves ------------------------------------------------------------------------------------
def test_an_input_moved_to_node_b_repeats_no_signin_and_loses_none(app_dir, simulator, splunkd, tmp_path):
    simulator.reset()
    params = {"account": "sim", "signin_lookback_hours": LOOKBACK}
    node_a, node_b = tmp_path / "node-a-checkpoints", tmp_path / "node-b-checkpoints"
    node_a.mkdir()
    node_b.mkdir()
    first = run_script(app_dir, stdin=input_xml(node_a, params))
    assert first.returncode == 0, first.stderr
    seen = signin_ids(stream_events(first.stdout))
    assert seen, "the demo tenant has sign-ins in the lookback window"

    # sign-ins that happen while the input is being moved
    template = next(e["event"] for e in stream_events(first.stdout)
                    if e["sourcetype"] == "entra:signin:serviceprincipal")
    added = [simulator.add_signin(template["servicePrincipalId"],
                                  key_id=template.get("servicePrincipalCredentialKeyId"))["id"] for _ in range(5)]

    second = run_script(app_dir, stdin=input_xml(node_b, params))
    assert second.returncode == 0, second.stderr
    moved = signin_ids(stream_events(second.stdout))
    assert sorted(moved) == sorted(added), "node B emits exactly the sign-ins node A had not"
    assert set(moved).isdisjoint(seen)
    assert [e for e in stream_events(second.stdout) if e["sourcetype"] == "entra:harvest"][0]["event"]["status"] \
        == "success"
    assert list(node_a.iterdir()) == [] and list(node_b.iterdir()) == [], "no node keeps state of its own"


# --- the chunked document ---------------------------------------------------------------------------------
def small_store(splunkd, chunk_bytes=1024):
    """Small chunks, two to a batch_save: a few kilobytes take several writes, as megabytes do under splunkd."""
    return kvstore.checkpoint_store(splunkd.server_uri, splunkd.session_key, chunk_bytes=chunk_bytes,
                                    batch_bytes=2 * chunk_bytes)


def test_large_documents_are_chunked_under_the_kv_store_limits(splunkd):
    # the fake refuses documents over 4 KB here, as splunkd refuses them over 16 MB
    splunkd.kvstore.max_document_bytes = 4096
    document = {"recent": {f"id-{n:05d}": "2026-12-01T00:00:00Z" for n in range(2000)}}
    small_store(splunkd, chunk_bytes=2048).save("big.signins", document)
    assert small_store(splunkd).load("big.signins") == document
    chunks = [d for d in splunkd.kvstore.documents(CHECKPOINTS) if d["kind"] == "chunk"]
    assert len(chunks) > 20 and max(len(json.dumps(d)) for d in chunks) < 4096
    with pytest.raises(CheckpointError, match="HTTP 400"):
        small_store(splunkd, chunk_bytes=8192).save("big.signins", document)
    assert small_store(splunkd).load("big.signins") == document, "a refused save leaves the last one whole"
    # the defaults stay under splunkd's documented limits: 16 MB a document, 50 MB and 1000 a batch_save
    default = kvstore.KVStoreCheckpointStore(None)
    assert default.chunk_bytes <= 16 * kvstore.MB / 2 and default.batch_chunks * default.chunk_bytes <= 50 * kvstore.MB
    assert default.batch_chunks <= 1000


def test_a_save_cut_off_mid_write_is_detected_and_the_last_position_kept(splunkd):
    before = {"high_water": "2026-12-01T10:00:00Z", "recent": [f"a-{n}" for n in range(400)]}
    after = {"high_water": "2026-12-01T11:00:00Z", "recent": [f"b-{n}" for n in range(400)]}
    small_store(splunkd).save("sim.signins", before)
    splunkd.kvstore.fail_writes_after(1)        # the process dies after the first batch of chunks
    with pytest.raises(CheckpointError, match="KV store is not ready"):
        small_store(splunkd).save("sim.signins", after)
    splunkd.kvstore.heal()

    node_b = small_store(splunkd)
    assert node_b.load("sim.signins") == before
    assert [key for key, _ in node_b.recoveries] == ["sim.signins"]
    assert "cut off before its manifest was written" in node_b.recoveries[0][1]
    node_b.save("sim.signins", after)          # the next save clears the unfinished chunks
    generations = {d["generation"] for d in splunkd.kvstore.documents(CHECKPOINTS) if d["kind"] == "chunk"}
    [manifest] = [d for d in splunkd.kvstore.documents(CHECKPOINTS) if d["kind"] == "manifest"]
    assert generations == {manifest["current"]["generation"], manifest["previous"]["generation"]}
    fresh = small_store(splunkd)
    assert fresh.load("sim.signins") == after and fresh.recoveries == []


def test_a_damaged_generation_falls_back_to_the_one_before(splunkd):
    small_store(splunkd).save("sim.inventory", {"n": list(range(500))})
    small_store(splunkd).save("sim.inventory", {"n": list(range(600))})
    [manifest] = [d for d in splunkd.kvstore.documents(CHECKPOINTS) if d["kind"] == "manifest"]
    current = manifest["current"]["generation"]
    splunkd.kvstore.remove(CHECKPOINTS, f"c:sim.inventory:{current}:1")
    store = small_store(splunkd)
    assert store.load("sim.inventory") == {"n": list(range(500))}
    assert "current generation is damaged (chunk 1 of" in store.recoveries[-1][1]
    previous = manifest["previous"]["generation"]
    splunkd.kvstore.remove(CHECKPOINTS, f"c:sim.inventory:{previous}:0")
    with pytest.raises(CheckpointError, match="is damaged .*sendalert entra_reset_checkpoint"):
        small_store(splunkd).load("sim.inventory")


def test_a_scan_cut_off_while_committing_resumes_without_losing_a_signin(simulator, splunkd):
    simulator.reset()
    collector = simulator.collector
    account = Account(name="sim", tenant_id=simulator.tenant_id, client_id=collector.client_id,
                      certificate_path=collector.certificate_path, authority_host=simulator.base_url,
                      graph_host=simulator.base_url, ca_bundle=simulator.ca_path)
    settings = ScanSettings(host="hf1", signin_lookback_hours=int(LOOKBACK))
    first = ListWriter()
    assert run_scan(account, small_store(splunkd, 512), first, settings).status == "success"
    seen = {e["event"]["id"] for e in first.events if e["sourcetype"] == "entra:signin:serviceprincipal"}
    template = next(e["event"] for e in first.events if e["sourcetype"] == "entra:signin:serviceprincipal")
    added = {simulator.add_signin(template["servicePrincipalId"])["id"] for _ in range(3)}

    splunkd.kvstore.fail_writes_after(1)        # killed in the middle of its first chunked save
    cut = ListWriter()
    assert run_scan(account, small_store(splunkd, 512), cut, settings).status == "failure"
    splunkd.kvstore.heal()
    resumed, store = ListWriter(), small_store(splunkd, 512)
    assert run_scan(account, store, resumed, settings).status == "success"
    assert [what for _, what in store.recoveries if "cut off before its manifest" in what], store.recoveries
    emitted = [e["event"]["id"] for w in (cut, resumed) for e in w.events
               if e["sourcetype"] == "entra:signin:serviceprincipal"]
    assert added <= set(emitted), "no sign-in is lost"
    assert not (set(emitted) & seen), "nothing committed before the cut is emitted again"
    assert len(emitted) - len(set(emitted)) <= 200, "repeats stay under the commit interval"


# --- the response journal on another cluster member ---------------------------------------------------------
def other_member(splunk_home, tmp_path):
    """A second search head: its own SPLUNK_HOME (no file journal), the same splunkd KV store."""
    member = tmp_path / "member2"
    shutil.copytree(splunk_home / "etc", member / "etc")
    (member / "var" / "spool" / "splunk").mkdir(parents=True)
    test_alert_actions._SPLUNKD[str(member)] = test_alert_actions._SPLUNKD[str(splunk_home)]
    return member


def test_a_removal_repeated_on_another_member_answers_already_done(sim, findings, splunk_home, splunkd, tmp_path):
    row = finding(findings, "Legacy Reporting Tool")
    code, stderr, events = run_action(splunk_home, "entra_remove_secret", [row], account="responder", force=1)
    assert code == 0 and events[0]["outcome"] == "changed", stderr
    assert row["key_id"] not in key_ids(sim, row)
    changes = len(sim.state.changes)

    code, stderr, again = run_action(other_member(splunk_home, tmp_path), "entra_remove_secret", [row],
                                     account="responder", force=1)
    assert code == 0, stderr
    assert again[0]["outcome"] == "already_done" and "this add-on removed key id" in again[0]["result"]
    assert len(sim.state.changes) == changes
    [snapshot] = [d for d in splunkd.kvstore.documents(kvstore.SNAPSHOTS) if d["kind"] == "manifest"]
    kept = json.loads(snapshot["current"]["inline"])
    assert kept["state"] == "changed" and kept["key_id"] == row["key_id"]
    assert row["key_id"] in [c["keyId"] for c in kept["snapshot"]["password_credentials"]]


# --- who may respond ----------------------------------------------------------------------------------------
def test_a_user_without_the_respond_capability_is_refused_and_graph_sees_nothing(sim, findings, splunk_home,
                                                                                   splunkd):
    splunkd.kvstore.login_as("intern", roles=["user"], capabilities=["search", "schedule_search"])
    setup = len(splunkd.requests)   # the fixture stored the accounts through REST
    rows = [finding(findings, "Legacy Reporting Tool"), finding(findings, "Mail Archiver")]
    code, stderr, events = run_action(splunk_home, "entra_remove_secret", rows, account="responder", force=1)
    assert code == 1
    assert [(e["outcome"], e["status"], e["user"]) for e in events] == [("refused", "failure", "intern")] * 2
    assert all("user intern (roles: user) lacks the entra_app_secrets_respond capability" in e["result"]
               for e in events)
    assert sim.requests == [] and sim.state.changes == [], "not even a token request reaches the tenant"
    assert [r.path for r in splunkd.requests[setup:] if "authentication" in r.path] == [
        "/services/authentication/current-context"]
    assert not [r for r in splunkd.requests[setup:] if "storage" in r.path], "no account or journal was touched"
    modalert = (splunk_home / "var" / "log" / "splunk" / "entra_remove_secret_modalert.log").read_text()
    assert modalert.count('action_status="failure"') == 2 and 'user="intern"' in modalert


# --- reset from Splunk Web ------------------------------------------------------------------------------------
def sendalert_reset(splunkd, splunk_home, **params):
    """`| sendalert entra_reset_checkpoint param.k=v` as splunkd runs it: bin script, JSON payload on stdin."""
    payload = {"app": "search", "owner": "admin", "search_name": "", "sid": "1764600000.42", "server_host": "sh1",
               "server_uri": splunkd.server_uri, "session_key": splunkd.session_key,
               "configuration": params, "result": {}}
    env = {**{k: v for k, v in os.environ.items() if k != "SPLUNK_HOME"}, "SPLUNK_HOME": str(splunk_home)}
    return subprocess.run([sys.executable, os.path.join(REPO, "bin", "entra_reset_checkpoint.py"), "--execute"],
                          input=json.dumps(payload), capture_output=True, text=True, env=env, timeout=60)


def test_an_admin_resets_one_inputs_signin_checkpoint_from_the_search_bar(app_dir, simulator, splunkd, tmp_path):
    simulator.reset()
    params = {"account": "sim", "signin_lookback_hours": LOOKBACK}
    first = run_script(app_dir, stdin=input_xml(tmp_path, params))
    seen = signin_ids(stream_events(first.stdout))
    splunkd.kvstore.put(CHECKPOINTS, {"_key": "m:other.signins", "kind": "manifest", "checkpoint": "other.signins"})
    home = tmp_path / "sh1"

    splunkd.kvstore.login_as("analyst1", roles=["ess_analyst"], capabilities=["search", access.RESPOND_CAPABILITY])
    refused = sendalert_reset(splunkd, home, account="sim", part="signins")
    assert refused.returncode == 1
    assert "user analyst1 (roles: ess_analyst) lacks the entra_app_secrets_reset_checkpoint capability" in refused.stderr
    assert "sim.signins" in {d["checkpoint"] for d in splunkd.kvstore.documents(CHECKPOINTS)}

    splunkd.kvstore.login_as("admin", roles=["admin"], capabilities=["admin_all_objects",
                                                                     access.RESET_CAPABILITY])
    done = sendalert_reset(splunkd, home, account="sim", part="signins")
    assert done.returncode == 0, done.stderr
    assert "checkpoint sim.signins reset by admin" in done.stderr
    left = {d["checkpoint"] for d in splunkd.kvstore.documents(CHECKPOINTS)}
    assert left == {"sim.posture", "sim.inventory", "other.signins"}, "only that input's sign-in cursor goes"
    modalert = (home / "var" / "log" / "splunk" / "entra_reset_checkpoint_modalert.log").read_text()
    assert 'action_status="success"' in modalert and 'checkpoint="sim.signins"' in modalert

    again = run_script(app_dir, stdin=input_xml(tmp_path, params))
    assert sorted(signin_ids(stream_events(again.stdout))) == sorted(seen), "the lookback window is read again"
    bad = sendalert_reset(splunkd, home, part="everything")
    assert bad.returncode == 2 and "param.account is required" in bad.stderr
