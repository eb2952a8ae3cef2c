"""Who triggered a response action, and whether their roles give them the capability it needs.

splunkd hands an alert action the session key of the user it runs for: the one who clicked the action
in Incident Review or ran `| sendalert`, or the owner of the scheduled search. `GET
/services/authentication/current-context` with that key answers that user's `username`, `roles` and
`capabilities` (every capability of every role held, inherited ones included), so the check needs no
capability of its own. Anything short of a clear answer refuses: the action must never reach Graph for
a user splunkd did not vouch for.
"""
import json
from dataclasses import dataclass

from connector.errors import ConfigError
from connector.splunk import splunkd

RESPOND_CAPABILITY = "entra_app_secrets_respond"
RESET_CAPABILITY = "entra_app_secrets_reset_checkpoint"


@dataclass(frozen=True)
class Caller:
    username: str
    roles: tuple
    capabilities: frozenset

    def lacks(self, capability):
        return capability not in self.capabilities


def current_caller(server_uri, session_key):
    """The Caller behind a session key; ConfigError saying what to fix when splunkd cannot tell."""
    if not session_key:
        raise ConfigError("the payload carries no session_key, so splunkd cannot say who triggered the action; "
                          "alert actions must be run by splunkd")
    service = splunkd.connect(server_uri, session_key)
    with splunkd.splunkd_errors(server_uri, "asking who triggered the action (authentication/current-context)",
                                "none (every user may read its own context)"):
        answer = service.get("/services/authentication/current-context", output_mode="json")
        body = json.loads(answer.body.read().decode("utf-8"))
    try:
        content = body["entry"][0]["content"]
        username = content["username"]
    except (KeyError, IndexError, TypeError):
        raise ConfigError("splunkd's authentication/current-context answer names no user; refusing") from None
    roles = content.get("roles") or []
    capabilities = content.get("capabilities") or []
    return Caller(username=str(username), roles=tuple(roles if isinstance(roles, list) else [roles]),
                  capabilities=frozenset(capabilities if isinstance(capabilities, list) else [capabilities]))


def refusal(caller, capability, doing):
    """One sentence naming the user and the missing capability, or None when the user holds it."""
    if not caller.lacks(capability):
        return None
    roles = ", ".join(caller.roles) or "none"
    return (f"user {caller.username} (roles: {roles}) lacks the {capability} capability needed to {doing}; "
            f"an admin grants it to a role in Settings > Roles. Nothing changed")
