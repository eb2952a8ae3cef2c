"""Phase 3 (full harvest): the per-object details of the secret holders (federated credentials, owners,
app role assignments -> permissions, directory roles), read in $batch: requests grow with pages and
with 20-holder batches, never with objects."""
from connector.assess import correlate
from connector.assess.holders import Details
from connector.errors import GraphError
from connector.graph.streams import APPLICATION_OWNERS, APP_ROLE_ASSIGNMENTS, FEDERATED_CREDENTIAL_HOLDERS, FEDERATED_CREDENTIALS


def read_details(run, holders, write_credential):
    """Details of every holder; federated credentials are written through `write_credential` as read."""
    harvester = run.harvester
    app_objects = holders.application_objects()
    sp_objects = holders.service_principal_objects()
    federated = read_federated_credentials(run, holders, write_credential)
    run.tick()
    owners = {}
    for object_id, records in harvester.per_object(APPLICATION_OWNERS, app_objects):
        owners[app_objects[object_id]] = tuple(
            owner.get("userPrincipalName") or owner.get("displayName") or owner.get("id") or ""
            for owner in records or ())
    run.tick()
    assignments = dict(harvester.per_object(APP_ROLE_ASSIGNMENTS, sp_objects))
    permissions = harvester.permissions(assignments)
    run.tick()
    roles = harvester.role_assignments(sp_objects)
    return Details(federated=frozenset(federated), owners=owners, permissions=permissions, roles=roles)


def read_federated_credentials(run, holders, write_credential):
    """Inventory every federated credential in the tenant; return the secret-holding app ids that have one.

    One advanced list names the applications holding a federated credential, with or without a
    secret (an app that migrated off secrets shows its federated credential too), and their
    credentials come in $batch: requests grow with pages, not applications. When Graph refuses the
    advanced query (Azure AD B2C tenants have none), the error is recorded and the secret-holding
    applications are read one by one in $batch instead, so every finding's has_federated_credential
    stays right; only federated credentials of apps without a secret are then missing."""
    federated = set()
    try:
        for page in run.harvester.federated_credential_holder_pages():
            listed = {app["id"]: app for app in page if app.get("id")}
            for app_id, _read in _inventory_federated(run, listed, write_credential):
                # listed as a holder: it has one, even when reading it failed
                if app_id in holders:
                    federated.add(app_id)
    except GraphError as error:
        run.harvester.record_error(FEDERATED_CREDENTIAL_HOLDERS.name, error)
        unread = holders.applications_for_federated_reads(skip=federated)
        federated |= {app_id for app_id, read in _inventory_federated(run, unread, write_credential) if read}
    return federated


def _inventory_federated(run, applications, write_credential):
    """Write the federated credentials of {object id: {id, appId, displayName}}, read in $batch;
    yield (app id, whether any was read) per application."""
    for object_id, records in run.harvester.per_object(FEDERATED_CREDENTIALS, applications):
        application = applications[object_id]
        credentials = list(correlate.federated_credentials_of(application, records or ()))
        for credential in credentials:
            write_credential(credential)
        yield application.get("appId") or "", bool(credentials)
