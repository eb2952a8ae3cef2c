"""`python -m entra_simulator` as the demo and the benchmarks start it."""
import json
import os
import signal
import stat
import subprocess
import sys
import time

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_command_line_serves_writes_its_state_file_and_stops_cleanly(tmp_path):
    state_dir = tmp_path / "state"
    process = subprocess.Popen([sys.executable, "-m", "entra_simulator", "--size", "demo", "--port", "0",
                                "--state-dir", str(state_dir), "--throttle", '{"scale": 0.1}'],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state_file = state_dir / "simulator.json"
    try:
        deadline = time.monotonic() + 60
        while not state_file.exists():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "simulator.json never appeared"
            time.sleep(0.1)
        info = json.loads(state_file.read_text())
        assert info["base_url"].startswith("https://127.0.0.1:") and os.path.exists(info["ca_path"])
        collector = info["identities"]["collector"]
        assert info["collector_client_id"] == collector["client_id"]
        assert os.path.exists(info["collector_certificate_path"])
        secret_file = collector["secret_path"]
        assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
        secret = open(secret_file, encoding="utf-8").read()
        assert secret not in state_file.read_text()

        session = requests.Session()
        session.trust_env = False
        response = session.post(f"{info['authority']}/oauth2/v2.0/token", verify=info["ca_path"], timeout=10,
                                data={"grant_type": "client_credentials", "client_id": collector["client_id"],
                                      "client_secret": secret, "scope": "https://graph.microsoft.com/.default"})
        assert response.status_code == 200
        graph = session.get(f"{info['base_url']}/v1.0/applications?$top=1", verify=info["ca_path"], timeout=10,
                            headers={"Authorization": f"Bearer {response.json()['access_token']}"})
        assert graph.status_code == 200 and len(graph.json()["value"]) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert not state_file.exists()
    assert secret not in err


def test_bad_options_exit_2(tmp_path):
    completed = subprocess.run([sys.executable, "-m", "entra_simulator", "--state-dir", str(tmp_path),
                                "--throttle", "{not json"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2 and "--throttle" in completed.stderr
