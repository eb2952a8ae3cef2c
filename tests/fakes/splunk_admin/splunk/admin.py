"""A stand-in for Splunk's `splunk.admin` (lib/python3.x/site-packages/splunk/admin.py inside Splunk),
the EAI framework splunkd runs `admin_external` REST handlers with. It is as strict as Splunk's where
the handlers could notice a difference:

- the same action constants (ACTION_CREATE 1, LIST 2, EDIT 4, REMOVE 8, ...), CONTEXT_* and exceptions;
- `MConfigHandler(scriptMode, ctxInfo, request=None)` reads the request the same way: the
  `<eai><eai_settings>` children become attributes (requestedAction, appName, userName, maxCount,
  posOffset as numbers), `<callerArgs><id>` and `<args><item name=...>` become `callerArgs.id` and
  `callerArgs.data` (every value a list), `<sessionKey>` is kept on `__main__` and returned by
  `getSessionKey()` (UsageException without one), an empty request is a UsageException;
- `setup()` then `supportedArgs` (`addReqArg`/`addOptArg`, names starting with `_` refused) and
  `execute(confInfo)` dispatching on requestedAction; ConfigInfo/ConfigItem keep items and metadata;
- `init(handler, ctxInfo)`: sys.argv[1] is `setup` or `execute` (anything else: usage error), the
  request comes on stdin, the answer goes to stdout; an exception becomes an `eai_error`.

What it fakes: the answer's wire format. Splunk's toXml() writes EAI XML that splunkd (C++) turns into
the REST answer; here the answer is JSON ({"items": {name: {key: value}}, "args": [...]} or
{"eai_error": {"type", "message"}}) because the reader is the test playing splunkd
(tests/fakes/splunkd_eai.py), which also does what splunkd does between the two runs: refuse an argument
the handler's setup() did not declare, and a missing required one, with splunkd's messages.
`persistent` mode (splunkd's binary packet protocol) is not implemented: the test runs the handler
script once per request in `execute` mode, which Splunk's own module supports the same way.
"""
import json
import sys
import traceback
import xml.etree.ElementTree as ElementTree

import __main__

ACTION_CREATE = 1
ACTION_LIST = 2
ACTION_EDIT = 4
ACTION_REMOVE = 8
ACTION_MEMBERS = 16
ACTION_RELOAD = 32

CONTEXT_NONE = 1
CONTEXT_APP_ONLY = 2
CONTEXT_APP_AND_USER = 3

ARG_EXECUTE = "execute"
ARG_PERSISTENT = "persistent"
ARG_SETUP = "setup"
ARGS_LIST = (ARG_SETUP, ARG_EXECUTE, ARG_PERSISTENT)


class AdminManagerException(Exception):
    def __init__(self, msg):
        Exception.__init__(self, msg)


class AlreadyExistsException(AdminManagerException): pass
class NotFoundException(AdminManagerException): pass
class ArgValidationException(AdminManagerException): pass
class BadActionException(AdminManagerException): pass
class BadProgrammerException(AdminManagerException): pass
class HandlerSetupException(AdminManagerException): pass
class InternalException(AdminManagerException): pass
class UsageException(AdminManagerException): pass
class ServiceUnavailableException(AdminManagerException): pass


class ArgsInfo:
    def __init__(self):
        self.id = ""
        self.data = {}

    def __getitem__(self, key):
        return self.data[key]

    def __contains__(self, key):
        return key in self.data

    def get(self, key, default=None):
        return self.data.get(key, default)


class ConfigItem(dict):
    def __init__(self):
        super().__init__()
        self._metadata = {}

    def setMetadata(self, key, value):
        self._metadata[key] = value

    def copyMetadata(self, src):
        for key, value in src.items():
            if key.startswith("eai:"):
                self.setMetadata(key, value)


class ConfigInfo:
    def __init__(self):
        self.data = {}
        self.messages = []

    def __getitem__(self, key):
        if key not in self.data:
            self.data[key] = ConfigItem()
        return self.data[key]

    def __contains__(self, key):
        return key in self.data

    def __iter__(self):
        return iter(self.data)

    def __len__(self):
        return len(self.data)

    def addInfoMsg(self, msg):
        self.messages.append({"text": msg, "type": "INFO"})

    def addWarnMsg(self, msg):
        self.messages.append({"text": msg, "type": "WARN"})

    def addErrorMsg(self, msg):
        self.messages.append({"text": msg, "type": "ERROR"})


class ArgSpecList:
    class ArgSpec:
        def __init__(self, name, required):
            self.argName, self.isRequired = name, required

    def __init__(self):
        self.args = []

    def _add(self, name, required):
        if name.startswith("_"):
            raise HandlerSetupException("Parameters beginning with '_' are reserved for EAI's usage.")
        spec = self.ArgSpec(name, required)
        self.args.append(spec)
        return spec

    def addOptArg(self, argName):
        return self._add(argName, False)

    def addReqArg(self, argName):
        return self._add(argName, True)


class MConfigHandler:
    def __init__(self, scriptMode, ctxInfo, request=None):
        self.appName = ""
        self.callerArgs = ArgsInfo()
        self.customAction = ""
        self.maxCount = 0
        self.posOffset = 0
        self.requestedAction = 0
        self.shouldAutoList = True
        self.supportedArgs = ArgSpecList()
        self.userName = ""
        self.context = ctxInfo
        self._mode = scriptMode
        if request is None:
            request = sys.stdin.buffer.read()
        elif isinstance(request, str):
            request = request.encode()
        if not request:
            raise UsageException("Received no serialized data via stdin (mode: %s).  Will not continue." % scriptMode)
        root = ElementTree.fromstring(request)
        for item in root.find("eai_settings"):
            if item.text is not None:
                setattr(self, item.tag, item.text)
        self.maxCount = int(self.maxCount)
        self.posOffset = int(self.posOffset)
        self.requestedAction = int(self.requestedAction)
        caller = root.find("callerArgs")
        self.callerArgs = ArgsInfo()
        for item in caller.find("args"):
            if item.tag == "item" and "name" in item.attrib:
                self.callerArgs.data.setdefault(item.attrib["name"], []).append(item.text)
        self.callerArgs.id = caller.find("id").text
        self._setup = root.find("setup") is not None
        session_key = root.find("sessionKey")
        if session_key is not None:
            setattr(__main__, "___sessionKey", session_key.text)

    def isSetup(self):
        return self._setup

    def getSessionKey(self):
        if hasattr(__main__, "___sessionKey"):
            return getattr(__main__, "___sessionKey")
        raise UsageException("Session key not provided in __main__.")

    def setup(self):
        raise BadProgrammerException("This python handler has not implemented a setup function.  Aborting.")

    def execute(self, confInfo):
        if self.customAction:
            self.handleCustom(confInfo)
            return
        for action, method in ((ACTION_CREATE, self.handleCreate), (ACTION_LIST, self.handleList),
                               (ACTION_EDIT, self.handleEdit), (ACTION_REMOVE, self.handleRemove),
                               (ACTION_MEMBERS, self.handleMembers), (ACTION_RELOAD, self.handleReload)):
            if self.requestedAction == action:
                method(confInfo)

    def actionNotImplemented(self):
        raise BadProgrammerException("This handler claims to support this action (%d), but has not implemented it."
                                     % self.requestedAction)

    handleCreate = handleEdit = handleList = handleMembers = handleReload = handleRemove = handleCustom = \
        lambda self, confInfo: self.actionNotImplemented()


def _answer(payload):
    sys.stdout.write(json.dumps(payload) + "\n")


def init(handler, ctxInfo):
    try:
        mode = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] in (ARG_SETUP, ARG_EXECUTE) else None
        if mode is None:
            raise UsageException("Usage: %s [setup | execute].  (Got: %s)" % (sys.argv[0], sys.argv))
        hand = handler(mode, ctxInfo)
        if mode == ARG_SETUP:
            hand.setup()
            _answer({"args": [[spec.argName, spec.isRequired] for spec in hand.supportedArgs.args]})
            return
        info = ConfigInfo()
        hand.execute(info)
        _answer({"items": {name: dict(item) for name, item in info.data.items()}, "messages": info.messages})
    except Exception as error:  # Splunk's init() turns every exception into an eai_error
        _answer({"eai_error": {"type": type(error).__name__, "message": str(error),
                               "recognized": isinstance(error, AdminManagerException),
                               "stacktrace": traceback.format_exc()}})
