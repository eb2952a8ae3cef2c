"""Fixtures shared by every test folder: the Entra/Graph simulator.

- `simulator`: the demo tenant (seed 7), started once per session. Tests that write to it or switch
  faults/throttling on must leave it as they found it: use `clean_simulator`, or call `.reset()`.
- `clean_simulator`: the same server, reset before and after the test (no writes, faults, throttle
  debt, request log), so a test sees exactly its own requests in `.requests` / `.counters`.
- `simulator_factory`: start another simulator with options, stopped when the test ends:
      sim = simulator_factory(throttle={"scale": 0.1}, token_lifetime=2, faults={"http_503": {"count": 2}})
      sim = simulator_factory(size="medium")
"""
import pytest

from entra_simulator import Simulator, generate_tenant

DEMO_SEED = 7


@pytest.fixture(scope="session")
def demo_tenant(tmp_path_factory):
    """The generated demo tenant; read-only (writes go to a simulator's state overlay)."""
    return generate_tenant("demo", seed=DEMO_SEED, workdir=str(tmp_path_factory.mktemp("demo-tenant")))


@pytest.fixture(scope="session")
def simulator(demo_tenant):
    sim = Simulator(tenant=demo_tenant).start()
    yield sim
    sim.stop()


@pytest.fixture
def clean_simulator(simulator):
    simulator.reset()
    yield simulator
    simulator.reset()


@pytest.fixture
def simulator_factory(tmp_path_factory, demo_tenant):
    started = []
    tenants = {("demo", DEMO_SEED): demo_tenant}

    def start(size="demo", seed=DEMO_SEED, **options):
        key = (size, seed)
        if key not in tenants:
            tenants[key] = generate_tenant(size, seed=seed, workdir=str(tmp_path_factory.mktemp(f"{size}-tenant")))
        sim = Simulator(tenant=tenants[key], **options).start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def issued_tokens(simulator, monkeypatch):
    """Every access token the shared simulator hands out during the test, for the leak checks (the code
    under test may run in a child process; the simulator runs in this one)."""
    simulator.reset()
    tokens = []
    issue = simulator.identity._issue

    def recording_issue(identity):
        answer = issue(identity)
        tokens.append(answer["access_token"])
        return answer
    monkeypatch.setattr(simulator.identity, "_issue", recording_issue)
    yield tokens
    simulator.reset()
