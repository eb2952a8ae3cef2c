"""What a person running the CLI sees on stderr: errors as one sentence, logs in the form that fits where
they go, and a live progress line while a scan runs at a terminal.

- Logs: text lines at a terminal; JSON lines when stderr is not a terminal (a script, a pipe, cron), when
  asked (`--log-format json`), or in a `--log-file`. At a terminal the default level is WARNING: the
  progress line and the summary say what INFO lines would.
- Progress: rich's live display, only when stderr is a terminal. rich is a CLI-only dependency (the
  `cli` extra): the Splunk side never imports this module's display, so rich is not vendored into the
  app's lib/, and without rich the CLI still works, only without the live line.
"""
import sys

from connector.errors import ConfigError
from connector.logs import configure_logging

LOG_FORMATS = ("auto", "json", "text")
PROG = "entra-app-secrets"


def is_terminal(stream):
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):   # a closed stream
        return False


def setup_logging(args, stderr=None):
    """configure_logging from --log-level, --log-format and --log-file; returns the chosen rendering.
    ConfigError when the log file cannot be written."""
    stderr = stderr or sys.stderr
    log_file = getattr(args, "log_file", None)
    at_terminal = is_terminal(stderr) and not log_file
    chosen = getattr(args, "log_format", None) or "auto"
    if chosen == "auto":
        chosen = "text" if at_terminal else "json"
    level = getattr(args, "log_level", None) or ("WARNING" if at_terminal else "INFO")
    try:
        configure_logging(level, render=chosen, log_file=log_file)
    except OSError as error:
        raise ConfigError(f"--log-file {log_file} cannot be written ({error.strerror or error}); "
                          "name a file in a folder you can write to") from None
    return chosen


def error(message, stderr=None):
    """One line on stderr that says what went wrong and, from the error's own text, what to fix."""
    print(f"{PROG}: error: {message}", file=stderr or sys.stderr)


class ProgressDisplay:
    """A live line on stderr while a scan runs: phase, objects read, sign-ins, Graph requests, throttling.

    Used as the scan's observer (`run_scan(..., observer=display)`) inside `with display:`. It draws
    only when stderr is a terminal and rich is installed; otherwise every call does nothing."""

    def __init__(self, stream=None, enabled=None):
        self.stream = stream or sys.stderr
        self.enabled = is_terminal(self.stream) if enabled is None else enabled
        self._progress = self._task = None
        self.reports = 0

    def __enter__(self):
        if not self.enabled:
            return self
        try:
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
        except ImportError:     # the cli extra is not installed: no live line, the summary still comes
            self.enabled = False
            return self
        self._progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"),
                                  TextColumn("{task.fields[line]}"), TimeElapsedColumn(),
                                  console=Console(file=self.stream), transient=True,
                                  # events may be going to stdout: never through the display; log lines
                                  # on stderr are printed above the live line
                                  redirect_stdout=False, redirect_stderr=True)
        self._progress.start()
        self._task = self._progress.add_task("starting", line="")
        return self

    def __call__(self, report):
        self.reports += 1
        if self._progress is not None:
            self._progress.update(self._task, description=report.phase.replace("_", " "),
                                  line=progress_line(report))

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
        return False


def progress_line(report):
    """The numbers of one ProgressReport, as the live line shows them."""
    counts = report.counts
    objects = counts.get("applications", 0) + counts.get("service_principals", 0)
    line = (f"{objects} objects  {counts.get('credentials', 0)} credentials  "
            f"{counts.get('signins_new', 0)} sign-ins  {counts.get('findings', 0)} findings  "
            f"{report.requests} Graph requests")
    if report.throttled or report.throttle_wait_s:
        line += f"  {report.throttled} throttled, {report.throttle_wait_s:.1f}s waiting"
    return line
