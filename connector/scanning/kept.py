"""The inventory kept from the last full harvest: used instead of harvesting when Graph's application and
servicePrincipal delta queries report no change and the harvest is younger than full_harvest_hours
(delta does not see permission grants, role assignments, owners or federated credentials), and
committed after a clean harvest's events went out."""
import datetime as dt

from connector.assess import correlate
from connector.times import iso, parse_time

from connector.scanning.context import STATE_VERSION, inventory_key

# errors in these stages do not make the inventory incomplete
NOT_INVENTORY_STAGES = ("signins", "app_credential_activity")


def unchanged_inventory(run):
    """The kept inventory (its delta links refreshed) when it may stand in for a harvest; else None."""
    if not run.settings.use_delta:
        return None
    kept = run.store.load(inventory_key(run.account))
    harvested = parse_time((kept or {}).get("harvested"))
    if not kept or not kept.get("delta_links") or harvested is None:
        return None
    if run.now - harvested >= dt.timedelta(hours=run.settings.full_harvest_hours):
        return None
    links = run.harvester.unchanged_since(kept["delta_links"])
    if links is None:
        return None
    return dict(kept, delta_links=links)


def emit_kept(run, posture, kept, collector):
    """Credentials and findings again, from the kept inventory with this run's time and usage."""
    run.counts["applications"] = kept.get("applications", 0)
    run.counts["service_principals"] = kept.get("service_principals", 0)
    contexts = {app_id: collector.refresh(correlate.context_from_state(state))
                for app_id, state in kept.get("contexts", {}).items()}
    for state in kept.get("credentials", ()):
        credential = correlate.credential_from_state(state)
        posture.credential(credential)
        if credential.is_secret and credential.app_id in contexts:
            posture.finding(credential, contexts[credential.app_id])


def harvested_document(run, delta_links, credentials, contexts):
    """What a full harvest keeps, or None when it may not be kept (no delta links, or it met errors)."""
    inventory_errors = [e for e in run.harvester.errors if e["stage"] not in NOT_INVENTORY_STAGES]
    if not delta_links or inventory_errors:
        return None
    return {"version": STATE_VERSION, "harvested": iso(run.now), "delta_links": delta_links,
            "applications": run.counts["applications"], "service_principals": run.counts["service_principals"],
            "credentials": credentials, "contexts": contexts}


def commit_inventory(run, document):
    """Keep `document` after the events went out; None forgets the kept inventory (the next run harvests)."""
    if document is None:
        run.store.delete(inventory_key(run.account))
        return
    run.writer.flush()
    run.store.save(inventory_key(run.account), document)
