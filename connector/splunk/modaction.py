"""The `sendmodaction` log lines Enterprise Security reads to show adaptive-response runs.

Splunk_SA_CIM indexes every `$SPLUNK_HOME/var/log/splunk/<action>_modalert.log` into `cim_modactions`
with sourcetype `modular_alerts:<action>` (its props.conf `[source::..._mod(alert|workflow).log]` and
transforms `force_index_cim_modactions`, `force_sourcetype_cim_modactions`), and Incident Review joins
those lines to a notable by `orig_sid`/`orig_rid`. This is our own small equivalent of the line format of
its `cim_actions.ModularAction.message` (shared/docs/splunk-conventions.md): a UTC time
`YYYY-MM-DD HH:MM:SS,mmm+0000`, the level, then `sendmodaction - ` and `name="value"` pairs in a fixed order
(worker, signature, action_name, search_name, sid, orig_sid, rid, orig_rid, app, user, digest_mode,
action_mode, action_status), then any others sorted by name, empty ones left out.
"""
import logging
import logging.handlers
import os
import re
import time

from connector.logs import redact_text

FIELDS = ("worker", "signature", "action_name", "search_name", "sid", "orig_sid", "rid", "orig_rid", "app",
          "user", "digest_mode", "action_mode", "action_status")
_NAME = re.compile(r"^[A-Za-z_]+$")


class _UtcFormatter(logging.Formatter):
    converter = time.gmtime

    def formatTime(self, record, datefmt=None):  # noqa: N802 - logging's name
        return time.strftime("%Y-%m-%d %H:%M:%S", self.converter(record.created)) + f",{int(record.msecs):03d}+0000"


def log_path(splunk_home, action_name):
    return os.path.join(splunk_home, "var", "log", "splunk", f"{action_name}_modalert.log")


def _value(value):
    # a value sits between double quotes on one line: no quote, no line break, no secret
    return re.sub(r"[\r\n\t]+", " ", redact_text(str(value))).replace('"', "'")


class ModActionLog:
    """One action run's lines in <action>_modalert.log, with the payload's identifiers filled in."""

    def __init__(self, splunk_home, action_name, payload):
        path = log_path(splunk_home, action_name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.logger = logging.getLogger(f"ta_entra_app_secrets.modalert.{action_name}")
        self.logger.propagate = False   # ES reads this file; the add-on's own log has its own records
        self.logger.setLevel(logging.INFO)
        for old in list(self.logger.handlers):
            self.logger.removeHandler(old)
            old.close()
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=25_000_000, backupCount=5, delay=True,
                                                       encoding="utf-8")
        handler.setFormatter(_UtcFormatter("%(asctime)s %(levelname)s %(message)s"))
        self.logger.addHandler(handler)
        self.handler = handler
        sid = str(payload.sid or "")
        self.common = {
            "worker": payload.server_host, "action_name": action_name, "search_name": payload.search_name,
            "sid": sid, "app": payload.app, "user": payload.user,
            # per-result alerting hands a result_id; a digest run hands every result at once
            "digest_mode": 0 if str(payload.result_id or "").strip() else 1,
            "action_mode": "saved" if "scheduler" in sid else "adhoc",
        }

    def message(self, signature, *, status=None, level=logging.INFO, **fields):
        values = {**self.common, **{k: v for k, v in fields.items() if k in FIELDS}}
        values.update(signature=signature, action_status=status)
        extra = sorted(k for k in fields if k not in FIELDS and _NAME.match(k))
        pairs = [(name, values.get(name)) for name in FIELDS] + [(name, fields[name]) for name in extra]
        text = " ".join(f'{name}="{_value(value)}"' for name, value in pairs if value not in (None, ""))
        line = f"sendmodaction - {text}"
        self.logger.log(level, line)
        return line

    def close(self):
        self.logger.removeHandler(self.handler)
        self.handler.close()
