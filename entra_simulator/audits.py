"""directoryAudit records for credentials added to or removed from apps and service principals.

Shape: beta directoryAudit (MGD api-reference/beta/api/directoryaudit-list.md example: id
`Directory_<correlationId>_<5 chars>_<8 digits>`, initiatedBy.user with userType/homeTenantId,
targetResources[].modifiedProperties). Activity names as Entra logs them (the en dash is Entra's).
"""
from __future__ import annotations

import json

from . import timefmt
from .ids import CREDENTIAL_SLOTS, Kind
from .plans import ObjectPlan
from .randomness import mix

UPDATE_APPLICATION_CREDENTIALS = "Update application – Certificates and secrets management "
ADD_SP_CREDENTIALS = "Add service principal credentials"
REMOVE_SP_CREDENTIALS = "Remove service principal credentials"
_ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _key_description(key_id: str, key_type: str, display_name) -> str:
    return f"[KeyIdentifier={key_id},KeyType={key_type},KeyUsage=Verify,DisplayName={display_name or ''}]"


def removed_key_id(tenant, plan: ObjectPlan, position: int) -> str:
    """keyId of a secret deleted before the log window: a slot no live credential uses."""
    owner = plan.app_index if plan.app_index is not None else plan.sp_index
    kind = Kind.PASSWORD_ON_APPLICATION if plan.app_index is not None else Kind.PASSWORD_ON_SERVICE_PRINCIPAL
    return tenant.codec.guid(kind, owner * CREDENTIAL_SLOTS + CREDENTIAL_SLOTS - 1 - position)


def credential_audit(tenant, plan: ObjectPlan, moment, action: str, position: int) -> dict:
    if action == "added":
        credential = plan.credentials[position]
        key_id, on_sp, name = credential.key_id, credential.on_service_principal, credential.display_name
        key_type = "Password" if credential.kind == "password" else credential.key_type
    else:
        key_id, on_sp, name, key_type = removed_key_id(tenant, plan, position), plan.app_index is None, None, "Password"
    description = json.dumps([_key_description(key_id, key_type, name)])
    old_value, new_value = ("[]", description) if action == "added" else (description, "[]")
    if on_sp:
        activity = ADD_SP_CREDENTIALS if action == "added" else REMOVE_SP_CREDENTIALS
        target_id, target_type = plan.sp_object_id, "ServicePrincipal"
    else:
        activity, target_id, target_type = UPDATE_APPLICATION_CREDENTIALS, plan.app_object_id, "Application"
    sequence = mix(tenant.seed, plan.sp_index, position, 0 if action == "added" else 1)
    correlation = tenant.codec.guid(Kind.CORRELATION, (1 << 38) + (sequence % (1 << 37)))
    suffix = "".join(_ALPHANUMERIC[(sequence >> (6 * n)) % 36] for n in range(5))
    actor_index = (plan.sp_index * 5 + position) % tenant.user_count
    actor_name, actor_upn = tenant.user_name(actor_index)
    return {
        "id": f"Directory_{correlation}_{suffix}_{sequence % 100_000_000:08d}",
        "category": "ApplicationManagement",
        "correlationId": correlation,
        "result": "success",
        "resultReason": "",
        "activityDisplayName": activity,
        "activityDateTime": timefmt.seven_digits(moment, sequence % 10),
        "loggedByService": "Core Directory",
        "operationType": "Update",
        "userAgent": None,
        "initiatedBy": {
            "app": None,
            "user": {"id": tenant.codec.guid(Kind.USER, actor_index), "displayName": actor_name,
                     "userPrincipalName": actor_upn, "ipAddress": "", "userType": "Member",
                     "homeTenantId": None, "homeTenantName": None},
        },
        "targetResources": [{
            "id": target_id,
            "displayName": plan.display_name,
            "type": target_type,
            "userPrincipalName": None,
            "groupType": None,
            "modifiedProperties": [
                {"displayName": "KeyDescription", "oldValue": old_value, "newValue": new_value},
                {"displayName": "Included Updated Properties", "oldValue": None, "newValue": "\"KeyDescription\""},
            ],
        }],
        "additionalDetails": [{"key": "AppId", "value": plan.app_id}],
    }
