"""`entra-app-secrets scan`: settings from the command line, one run, and the summary table a person reads.

Events go to --output (or stdout); the summary goes to stdout when the events do not, else to stderr;
errors always go to stderr. Exit codes: connector.scan.RunSummary.exit_code (README "CLI")."""
import sys

from connector import console
from connector.checkpoint import FileCheckpointStore
from connector.config import account_from_cli
from connector.errors import AuthenticationError, ConfigError
from connector.scan import EXIT_USAGE, ScanSettings, number_setting, run_scan
from connector.splunk.events import JsonLinesWriter

SEVERITY_ORDER = ("critical", "high", "medium", "low", "informational")


def format_summary(summary, limit=None):
    """A table a person reads at the end of a run: findings by severity, then the worst first."""
    lines = [f"run {summary.run_id}  account {summary.account}  status {summary.status}  "
             f"{summary.duration_s:.1f}s  {summary.requests} Graph requests ({summary.throttled} throttled, "
             f"{summary.throttle_wait_s:.1f}s waiting)"]
    counts = summary.counts
    lines.append(f"applications {counts.get('applications', 0)}  service principals "
                 f"{counts.get('service_principals', 0)}  credentials {counts.get('credentials', 0)}  "
                 f"new sign-ins {counts.get('signins_new', 0)}  findings {counts.get('findings', 0)}  ("
                 + ", ".join(f"{summary.by_severity.get(s, 0)} {s}" for s in SEVERITY_ORDER) + ")")
    ranked = sorted(summary.findings, key=lambda f: (-f[0], SEVERITY_ORDER.index(f[1]), f[2], f[4]))
    if ranked:
        lines.append("")
        lines.append(f"{'SEVERITY':<14}{'SCORE':>5}  {'ON':<17}{'APP':<42}{'KEY ID':<38}WHY")
        for score, severity, app_name, object_type, key_id, factors in ranked[:limit]:
            lines.append(f"{severity:<14}{score:>5}  {object_type:<17}{_printable(app_name, 40):<42}{key_id:<38}"
                         + ", ".join(factors))
        shown = len(ranked[:limit])
        if counts.get("findings", 0) > shown:
            lines.append(f"... and {counts['findings'] - shown} more (see the events)")
    return "\n".join(lines)


def format_errors(summary):
    """One line per error the run met (they go to stderr, whatever happens to the summary)."""
    return [f"{console.PROG}: error in {error.get('stage')}: {_printable(error.get('message'), 2000)}"
            for error in summary.errors]


def _printable(text, width=60):
    """Hostile display names (control characters, very long) must not break a terminal table."""
    cleaned = "".join(ch if ch.isprintable() else "\ufffd" for ch in str(text or ""))
    return cleaned if len(cleaned) <= width else cleaned[:width - 1] + "\u2026"


def settings_from_args(args, **overrides):
    values = {}
    for name in ("signin_lookback_hours", "signin_overlap_minutes"):
        if getattr(args, name, None) is not None:
            values[name] = number_setting(name, getattr(args, name))
    values.update(overrides)
    return ScanSettings(**values)


def scan_with_display(account, store, writer, settings, stderr):
    """run_scan with the live progress line on stderr when it is a terminal."""
    with console.ProgressDisplay(stderr) as display:
        return run_scan(account, store, writer, settings, observer=display)


def cli_scan(args, *, stdout=None, stderr=None):
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        console.setup_logging(args, stderr)
        account = account_from_cli(args)
        settings = settings_from_args(args)
    except ConfigError as error:
        console.error(error, stderr)
        return EXIT_USAGE
    to_stdout = args.output in (None, "-")
    try:
        writer = JsonLinesWriter(stdout) if to_stdout else JsonLinesWriter.to_path(args.output)
    except OSError as error:
        console.error(f"--output {args.output} cannot be written ({error.strerror or error}); "
                      "name a file in a folder you can write to", stderr)
        return EXIT_USAGE
    store = FileCheckpointStore(args.state_dir or "entra-app-secrets-state")
    try:
        summary = scan_with_display(account, store, writer, settings, stderr)
    except (AuthenticationError, ConfigError) as error:
        console.error(f"sign-in failed: {error}", stderr)
        return EXIT_USAGE
    finally:
        writer.close()
    print(format_summary(summary), file=stderr if to_stdout else stdout)
    for line in format_errors(summary):
        print(line, file=stderr)
    return summary.exit_code
