"""A faithful stand-in for Entra ID sign-in and Microsoft Graph, for tests, benchmarks and the demo.

Never packaged into the Splunk app.
"""
