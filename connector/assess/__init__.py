"""Pure assessment: credentials joined to sign-ins and permissions, and the CTD-000008 score. Imports neither graph nor splunk."""
