"""Ground truth: the facts about each client secret that the add-on's findings are checked against.

Traits are computed from the same plan and the same replay of the sign-in rounds that produce the
served JSON and the sign-in log, never from the profile's intentions, so a secret marked "used" has
a successful sign-in record carrying its keyId (tests/simulator/test_generator.py checks this).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import catalog
from .model import ExpectedSecret
from .plans import Credential, ObjectPlan

RECENT = timedelta(days=7)
LONG_LIFETIME = timedelta(days=730)
MANY_SOURCE_IPS = 5


@dataclass
class Usage:
    """What the sign-in log holds for one credential: its last successful sign-in and the addresses."""
    credential: Credential
    last_index: int
    addresses: set = field(default_factory=set)


def expected_secret(plan: ObjectPlan, credential: Credential, usage: Usage | None, now: datetime) -> ExpectedSecret:
    profile = plan.profile
    permissions = [catalog.GRAPH_ROLE_BY_VALUE[name] for name in profile.graph_permissions] + \
                  [catalog.EXCHANGE_ROLE_BY_VALUE[name] for name in profile.exchange_permissions]
    facts = {
        "high_privilege_permission": any(role.high_risk for role in permissions),
        "directory_role": bool(profile.directory_roles),
        "on_service_principal": credential.on_service_principal,
        "never_expires": credential.never_expires,
        "long_lifetime": not credential.never_expires and credential.end - credential.start > LONG_LIFETIME,
        "expired": credential.end < now,
        "used": usage is not None,
        "unused": usage is None,
        "many_source_ips": usage is not None and len(usage.addresses) >= MANY_SOURCE_IPS,
        "recently_added": now - RECENT <= credential.start <= now,
        "has_certificate": any(c.kind == "key" and c.key_type == "AsymmetricX509Cert" for c in plan.credentials),
        "has_federated_credential": bool(plan.federated()),
        "multi_tenant": profile.sign_in_audience != "AzureADMyOrg" or profile.kind == "external",
        "disabled_service_principal": not profile.account_enabled,
        "collector_app": profile.identity is not None,
    }
    return ExpectedSecret(
        object_type="servicePrincipal" if credential.on_service_principal else "application",
        object_id=plan.sp_object_id if credential.on_service_principal else plan.app_object_id,
        app_id=plan.app_id, key_id=credential.key_id,
        traits=frozenset(name for name, present in facts.items() if present))
