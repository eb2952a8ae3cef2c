"""A stand-in for the `splunk` package that exists only inside Splunk's own Python (see admin.py).

splunktaucclib imports `splunk.RESTException` (error_ctl.py) and `splunk.admin`; nothing else of it is
reached by the UCC REST handlers. Only the tests put this folder on sys.path.
"""


class RESTException(Exception):
    def __init__(self, statusCode, msg=None):
        self.statusCode = statusCode
        self.msg = msg
        super().__init__(msg)
