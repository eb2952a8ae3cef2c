"""Phase 2 (full harvest): applications and service principals, each credential written the moment its
object's page arrives; the secret holders kept (compactly) for their details and findings."""
from connector.assess import correlate
from connector.assess.correlate import credentials_of
from connector.assess.holders import SecretHolders

OBJECTS_PER_TICK = 100


class InventoryHarvest:
    """Reads the inventory once; keeps the secret holders and the credential states for the kept inventory."""

    def __init__(self, run, posture):
        self.run, self.posture = run, posture
        self.holders = SecretHolders()
        self.kept_credentials = []        # credential states: the inventory the next runs may re-assess

    def credential(self, credential):
        self.kept_credentials.append(correlate.credential_to_state(credential))
        self.posture.credential(credential)

    def read_applications(self):
        for application in self.run.harvester.applications():
            credentials = self._inventory(application, "application", "applications")
            self.holders.add_application(application, credentials, self.run.now)

    def read_service_principals(self):
        for principal in self.run.harvester.service_principals():
            credentials = self._inventory(principal, "servicePrincipal", "service_principals")
            self.holders.add_service_principal(principal, credentials, self.run.now)

    def _inventory(self, graph_object, object_type, counter):
        counts = self.run.counts
        counts[counter] += 1
        credentials = list(credentials_of(graph_object, object_type))
        for credential in credentials:
            self.credential(credential)
        if counts[counter] % OBJECTS_PER_TICK == 0:
            self.run.tick()
        return credentials
