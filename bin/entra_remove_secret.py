"""Alert action entra_remove_secret: splunkd runs it with --execute and the JSON payload on stdin.

Thin wiring only: the work is in connector.splunk.alert_action and connector.respond.actions.
"""
import os
import sys

# The app's vendored dependencies and the connector package live in ../lib.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

from connector.splunk.alert_action import main  # noqa: E402 - needs the lib path first

if __name__ == "__main__":
    sys.exit(main("entra_remove_secret", sys.argv[1:], sys.stdin))
