"""TA-entra-app-secrets core: find Microsoft Entra apps that authenticate with client secrets (CTD-000008)."""

APP_ID = "TA-entra-app-secrets"
