"""A faithful stand-in for Entra ID sign-in and Microsoft Graph, for tests, benchmarks and the demo.

Never packaged into the Splunk app.

    from entra_simulator import Simulator, generate_tenant
    with Simulator(tenant=generate_tenant("demo", seed=7)) as sim:
        ...  # sim.base_url, sim.ca_path, sim.tenant_id, sim.collector, sim.state, sim.counters
"""

from __future__ import annotations
from entra_simulator.model import generate_tenant
from entra_simulator.server import Simulator

__all__ = ["Simulator", "generate_tenant"]
