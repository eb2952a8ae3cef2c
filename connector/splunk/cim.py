"""Event bodies per kind, with the CIM fields set by code so the mapping is tested, not guessed.

The field names are the contract in docs/ARCHITECTURE.md "Events"; the knowledge objects in default/
search on them. Change a name there first.
"""
import uuid

from connector.assess import score as rules
from connector.times import iso

VENDOR_PRODUCT = "Microsoft Entra ID"
CIM_APP = "Microsoft Entra ID"
SIGNIN_SIGNATURE = "Service principal sign-in"
FINDING_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://splunkbase.splunk.com/app/TA-entra-app-secrets")

SOURCETYPE_FINDING = "entra:app:finding"
SOURCETYPE_CREDENTIAL = "entra:app:credential"
SOURCETYPE_SIGNIN = "entra:signin:serviceprincipal"
SOURCETYPE_RESPONSE = "entra:app:response"
SOURCETYPE_HARVEST = "entra:harvest"


def _common(account, tenant_id):
    return {"vendor_product": VENDOR_PRODUCT, "tenant_id": tenant_id, "account": account}


def finding_id(tenant_id, object_type, object_id, key_id):
    """Stable across runs, so "latest" searches and ES notables group one secret's findings."""
    return str(uuid.uuid5(FINDING_ID_NAMESPACE, f"{tenant_id}|{object_type}|{object_id}|{key_id}".lower()))


def finding_event(finding, *, account, tenant_id):
    facts = finding.facts
    credential, context, when, usage = facts.credential, facts.context, facts.timing, facts.usage
    app_name = context.app_name or credential.app_name
    return {
        **_common(account, tenant_id),
        "signature_id": rules.SIGNATURE_ID,
        "signature": rules.SIGNATURE,
        "type": "alert",
        "severity": finding.severity,
        "severity_id": finding.severity_id,
        "risk_score": finding.score,
        "risk_factors": finding.factor_ids,
        "risk_factor_details": [factor.detail for factor in finding.factors],
        "id": finding_id(tenant_id, credential.object_type, credential.object_id, credential.key_id),
        "object_type": credential.object_type,
        "object_id": credential.object_id,
        "app_id": context.app_id,
        "app_name": app_name,
        "key_id": credential.key_id,
        "credential_type": credential.credential_type,
        "secret_hint": credential.hint or "",
        "credential_display_name": credential.display_name or "",
        "start_time": iso(credential.start),
        "end_time": iso(credential.end),
        "never_expires": when.never_expires,
        "lifetime_days": when.lifetime_days,
        "age_days": when.age_days,
        "days_to_expiry": when.days_to_expiry,
        "expired": when.expired,
        "last_used": usage.last_used,
        "use_count": usage.use_count,
        "source_ips": list(usage.source_ips),
        "src_count": len(usage.source_ips),
        "permissions": sorted({permission.label for permission in context.permissions}),
        "directory_roles": sorted(set(context.directory_roles)),
        "owners": list(context.owners),
        "has_certificate": context.has_certificate,
        "has_federated_credential": context.has_federated_credential,
        "multi_tenant": context.multi_tenant,
        "sign_in_audience": context.sign_in_audience,
        "account_enabled": context.account_enabled,
        "application_object_id": context.application_object_id,
        "service_principal_id": context.service_principal_id,
        "is_collector_app": context.is_collector_app,
        "mitre_technique_id": finding.mitre_technique_ids,
        "description": rules.description(finding),
        "recommended_action": rules.recommended_action(finding),
        # CIM Alerts
        "app": CIM_APP,
        "dest": context.app_id,
        "user": app_name or context.app_id,
        "src": usage.last_ip or (usage.source_ips[0] if usage.source_ips else "unknown"),
        "subject": f"{rules.SIGNATURE}: {app_name or context.app_id}",
        "dest_type": "application",
        "user_type": "service_principal",
    }


def credential_event(credential, when, usage, *, account, tenant_id):
    event = {
        **_common(account, tenant_id),
        "credential_type": credential.credential_type,
        "object_type": credential.object_type,
        "object_id": credential.object_id,
        "app_id": credential.app_id,
        "app_name": credential.app_name,
        "key_id": credential.key_id,
        "display_name": credential.display_name,
        "start_time": iso(credential.start),
        "end_time": iso(credential.end),
        "never_expires": when.never_expires,
        "expired": when.expired,
        "days_to_expiry": when.days_to_expiry,
        "lifetime_days": when.lifetime_days,
        "last_used": usage.last_used,
        "use_count": usage.use_count,
        "status": when.status,
    }
    if credential.credential_type == "password":
        event["hint"] = credential.hint
    if credential.credential_type in ("certificate", "symmetric_key"):
        event.update(usage=credential.usage, key_type=credential.key_type)
    if credential.credential_type == "federated":
        event.update(issuer=credential.issuer, subject=credential.subject,
                     audiences=list(credential.audiences), name=credential.name)
    return event


def signin_event(record, *, account, tenant_id):
    """Graph's record kept whole, CIM Authentication fields added beside it."""
    status = record.get("status") if isinstance(record.get("status"), dict) else {}
    error_code = status.get("errorCode")
    succeeded = error_code in (0, "0", None)
    location = record.get("location") if isinstance(record.get("location"), dict) else {}
    # The added fields go first: Splunk's automatic JSON extraction stops after 100 fields and 10240
    # characters (limits.conf [kv] limit, maxchars), and a full beta signIn record comes close.
    event = _common(account, tenant_id)
    event.update({
        "action": "success" if succeeded else "failure",
        "app": CIM_APP,
        "src": record.get("ipAddress") or "unknown",
        "dest": record.get("resourceDisplayName") or record.get("resourceId") or "unknown",
        "user": record.get("servicePrincipalName") or record.get("appDisplayName") or record.get("appId"),
        "user_id": record.get("appId"),
        "authentication_method": record.get("clientCredentialType"),
        "authentication_service": CIM_APP,
        "signature": SIGNIN_SIGNATURE,
        "signature_id": error_code if error_code is not None else 0,
        "key_id": record.get("servicePrincipalCredentialKeyId"),
        "src_country": location.get("countryOrRegion"),
    })
    if not succeeded:
        event["reason"] = status.get("failureReason")
    for name, value in record.items():
        event.setdefault(name, value)
    return event


MAX_ERRORS_IN_EVENT = 10


def harvest_event(*, account, tenant_id, run_id, status, started, duration_s, stats, errors, counts,
                  signin_lag_s, mode, auth_method, inventory="graph"):
    # Only the first errors travel (error_count tells how many there were) and they come last: Splunk
    # extracts JSON fields from the first 10240 characters only (limits.conf [kv] maxchars).
    errors = list(errors)
    return {
        **_common(account, tenant_id),
        "run_id": run_id,
        "status": status,
        "started": started,
        "duration_s": round(duration_s, 3),
        "requests": getattr(stats, "requests", 0),
        "throttled": getattr(stats, "throttled", 0),
        "retries": getattr(stats, "retries", 0),
        "counts": dict(counts),
        "signin_lag_s": signin_lag_s,
        "mode": mode,
        "auth_method": auth_method,
        "inventory": inventory,
        "error_count": len(errors),
        "errors": errors[:MAX_ERRORS_IN_EVENT],
    }


def response_event(*, account, tenant_id, command, action, status, outcome, result, app_id, app_name,
                   object_type, object_id, object_attrs, object_category, graph_host, user, src,
                   key_id=None, result_id=None, orig_sid=None, orig_rid=None, search_name=None, dry_run=False,
                   forced=False, graph_error_code=None, graph_request_id=None, snapshot=None):
    """CIM Change record of one response action (one per alert-action row)."""
    return {
        **_common(account, tenant_id),
        "action": action, "change_type": "application", "command": command, "dest": app_id,
        "dvc": graph_host, "object": app_name or app_id, "object_id": object_id,
        "object_attrs": list(object_attrs), "object_category": object_category, "status": status,
        "result": result, "result_id": result_id, "src": src, "user": user, "orig_sid": orig_sid,
        "orig_rid": orig_rid, "search_name": search_name, "dry_run": bool(dry_run), "forced": bool(forced),
        "outcome": outcome, "graph_error_code": graph_error_code, "graph_request_id": graph_request_id,
        "snapshot": snapshot, "key_id": key_id, "app_id": app_id, "object_type": object_type,
    }
