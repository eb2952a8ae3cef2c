"""The add-on's Account for one of the simulator's app identities (collector, responder, limited, ...)."""
from connector.config import Account


def account_for(sim, identity="collector", *, secret=False, **overrides):
    """Signs in with the identity's certificate, or with its client secret when `secret`."""
    app = sim.identities[identity]
    values = dict(name=identity, tenant_id=sim.tenant_id, client_id=app.client_id, authority_host=sim.base_url,
                  graph_host=sim.base_url, ca_bundle=sim.ca_path,
                  certificate_path=None if secret else app.certificate_path)
    values.update(overrides)
    account = Account(**values)
    return account.with_secret(app.secret) if secret else account
