"""Alert action entra_reset_checkpoint: splunkd runs it with --execute and the JSON payload on stdin.

Thin wiring only: the work is in connector.splunk.reset_checkpoint.
"""
import os
import sys

# The app's vendored dependencies and the connector package live in ../lib.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))

from connector.splunk.reset_checkpoint import main  # noqa: E402 - needs the lib path first

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], sys.stdin))
