"""Response actions: remove a secret, disable or enable an app, with their safety checks, journal and audit records."""
