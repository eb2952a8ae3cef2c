"""Fixed identifiers and conventions of Microsoft Entra ID, shared by the Graph and assessment sides."""

MICROSOFT_GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"

# Graph writes "never expires" as a far-future endDateTime; the portal and PowerShell use 2299 or 9999.
NEVER_EXPIRES_YEAR = 2299
