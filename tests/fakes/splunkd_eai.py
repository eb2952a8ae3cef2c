"""Plays splunkd's part in one `admin_external` REST call: runs the app's handler script (restmap.conf
`handlerfile`) the way splunkd does, under `$SPLUNK_HOME/etc/apps/<app>/bin/`, with the `splunk` package
of tests/fakes/splunk_admin/ instead of Splunk's (see its admin.py for what it fakes).

One call is two runs of the script, as splunkd makes them: `setup` (the handler declares its arguments),
then, once splunkd has checked the request's arguments against that declaration, `execute`. splunkd's
refusals in between are reproduced with its messages: `Argument "x" is not supported by this handler.`
and `The following required arguments are missing: x.`.
"""
import json
import os
import subprocess
import sys
from xml.sax.saxutils import escape, quoteattr

FAKE_SPLUNK_PACKAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "splunk_admin")
ACTIONS = {"create": 1, "list": 2, "edit": 4, "remove": 8}
# every byte the handler scripts wrote (stdout and stderr), for the tests' secret scans
OUTPUTS = []


class EaiError(Exception):
    """What splunkd would answer with a 4xx/5xx: the handler's (or splunkd's) message."""

    def __init__(self, message, kind="splunkd"):
        self.message, self.kind = message, kind
        super().__init__(message)


def call(script, action, entity_id, args, *, session_key, splunkd_uri, app, python=sys.executable, env=None):
    """{name: {key: value}} the handler answered, or EaiError."""
    declared = _run(script, "setup", _request(action, entity_id, {}, session_key, app, setup=True),
                    splunkd_uri, python, env)["args"]
    allowed = {name for name, _required in declared}
    for name in args:
        if name not in allowed and name != "name":
            raise EaiError(f'Argument "{name}" is not supported by this handler.')
    missing = [name for name, required in declared if required and name not in args]
    if missing:
        raise EaiError(f"The following required arguments are missing: {', '.join(missing)}.")
    answer = _run(script, "execute", _request(action, entity_id, args, session_key, app), splunkd_uri, python, env)
    return answer["items"]


def _request(action, entity_id, args, session_key, app, setup=False):
    items = "".join(f"<item name={quoteattr(name)}>{escape(str(value))}</item>" for name, value in args.items())
    return (f"<eai><eai_settings><requestedAction>{ACTIONS[action]}</requestedAction><appName>{escape(app)}</appName>"
            f"<userName>admin</userName><maxCount>30</maxCount><posOffset>0</posOffset></eai_settings>"
            f"<callerArgs><id>{escape(entity_id or '')}</id><args>{items}</args></callerArgs>"
            f"{'<setup/>' if setup else ''}<sessionKey>{escape(session_key)}</sessionKey></eai>").encode()


def _run(script, mode, request, splunkd_uri, python, env):
    environment = dict(env or os.environ, SPLUNKD_URI=splunkd_uri, PYTHONDONTWRITEBYTECODE="1",
                       PYTHONPATH=FAKE_SPLUNK_PACKAGE)
    result = subprocess.run([python, script, mode], input=request, capture_output=True, cwd=os.path.dirname(script),
                            env=environment, timeout=120)
    OUTPUTS.append(result.stdout + result.stderr)
    lines = result.stdout.decode("utf-8", "replace").strip().splitlines()
    if result.returncode != 0 or not lines:
        raise AssertionError(f"{os.path.basename(script)} {mode} crashed (rc {result.returncode}): "
                             f"{result.stderr.decode('utf-8', 'replace')[-3000:]}")
    answer = json.loads(lines[-1])
    if "eai_error" in answer:
        raise EaiError(answer["eai_error"]["message"], kind=answer["eai_error"]["type"])
    return answer
