"""Mutation testing outside CI: do the tests notice a one-line change to the code they cover?

    .venv/bin/python -m devtools.mutate                       # the default targets and their fast tests
    .venv/bin/python -m devtools.mutate --paths connector/splunk/cim.py --tests tests/unit/test_cim.py
    .venv/bin/python -m devtools.mutate --show                # the surviving mutants of the last run, as diffs

mutmut 3 is installed into .venv on first use (a marker makes later runs skip pip). It works on a copy
of the checkout under .cache/mutate/ (git ls-files, so your edits are included and never mutated in
place), generates every mutant of the target files once, runs the given tests once to learn which
tests reach which function, then forks per mutant and runs only those tests: seconds per module, not
a pytest start per mutant. It runs under `nice`: the machine is shared. Not part of CI; the score is
in README "Testing".

The default targets are the pure code whose unit tests run in seconds: connector/assess/ and
connector/splunk/cim.py. connector/scan.py and connector/scanning/ are covered by the simulator tests
(tens of seconds per run); give them with --paths and --tests tests/integration/test_scan.py when
there is an hour to spare.
"""
import argparse
import collections
import json
import os
import shutil
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK_DIR = os.path.join(REPO_ROOT, ".cache", "mutate")
MUTMUT = "mutmut>=3.3,<4"
MARKER = ".mutmut-installed"
DEFAULT_PATHS = ("connector/assess/score.py", "connector/assess/correlate.py", "connector/assess/holders.py",
                 "connector/splunk/cim.py")
DEFAULT_TESTS = ("tests/unit/test_assess.py", "tests/unit/test_correlate.py", "tests/unit/test_holders.py",
                 "tests/unit/test_cim.py")
# mutmut 3's exit codes per mutant (mutmut/__main__.py status_by_exit_code)
KILLED, SURVIVED = (1, 3, 37, -9, -11), (0,)
NO_TESTS, TIMEOUT = (5, 33), (36, -24)


def ensure_mutmut(python):
    marker = os.path.join(os.path.dirname(os.path.dirname(python)), MARKER)
    if _read(marker) == MUTMUT:
        return
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", MUTMUT], check=True)
    with open(marker, "w", encoding="utf-8") as handle:
        handle.write(MUTMUT)


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return None


def copy_checkout(target):
    """The tracked and new files of the checkout (with your edits) into `target`; mutants/ is rebuilt."""
    shutil.rmtree(os.path.join(target, "mutants"), ignore_errors=True)
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO_ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for relative in filter(None, listed):
        source = os.path.join(REPO_ROOT, relative)
        if os.path.isfile(source):
            destination = os.path.join(target, relative)
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            shutil.copyfile(source, destination)


def write_config(target, paths, tests):
    def block(values):
        return "".join(f"\n    {value}" for value in values)
    with open(os.path.join(target, "setup.cfg"), "w", encoding="utf-8") as handle:
        handle.write("[mutmut]\nsource_paths=" + block(["connector"]) + "\nonly_mutate=" + block(paths)
                     + "\npytest_add_cli_args_test_selection=" + block(tests)
                     + "\npytest_add_cli_args=" + block(["-p", "no:cacheprovider"])
                     + "\nalso_copy=" + block(["entra_simulator", "devtools", "default", "bin"]) + "\n")


def scores(target, paths):
    """{path: Counter(killed, survived, no tests, timeout, not checked)} from mutmut's .meta files."""
    found = {}
    for path in paths:
        meta = os.path.join(target, "mutants", path + ".meta")
        codes = (json.load(open(meta, encoding="utf-8")).get("exit_code_by_key") or {}).values() \
            if os.path.exists(meta) else ()
        count = collections.Counter()
        for code in codes:
            count["killed" if code in KILLED else "survived" if code in SURVIVED else "no tests" if code in NO_TESTS
                  else "timeout" if code in TIMEOUT else "not checked"] += 1
        found[path] = count
    return found


def print_scores(found):
    total = collections.Counter()
    for path, count in found.items():
        total.update(count)
        print(_score_line(path, count))
    print(_score_line("all", total))


def _score_line(name, count):
    tested = count["killed"] + count["survived"] + count["timeout"]
    score = 100.0 * (count["killed"] + count["timeout"]) / tested if tested else 0.0
    return (f"{name}: {score:.1f}% killed ({count['killed']} killed, {count['timeout']} timed out, "
            f"{count['survived']} survived, {count['no tests']} reached by no test, {count['not checked']} not checked)")


def mutmut(python, arguments, cwd):
    return subprocess.run(["nice", "-n", "15", python, "-m", "mutmut", *arguments], cwd=cwd).returncode


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", nargs="+", default=list(DEFAULT_PATHS), help="files to mutate")
    parser.add_argument("--tests", nargs="+", default=list(DEFAULT_TESTS), help="tests each mutant must fail")
    parser.add_argument("--show", action="store_true", help="print the survivors of the last run as diffs")
    args = parser.parse_args(argv)
    python = sys.executable
    ensure_mutmut(python)
    if args.show:
        listed = subprocess.run([python, "-m", "mutmut", "results"], cwd=WORK_DIR, capture_output=True, text=True)
        for line in listed.stdout.splitlines():
            name = line.strip().split(":")[0]
            if name and line.strip().endswith("survived"):
                mutmut(python, ["show", name], WORK_DIR)
        return 0
    os.makedirs(WORK_DIR, exist_ok=True)
    copy_checkout(WORK_DIR)
    write_config(WORK_DIR, args.paths, args.tests)
    mutmut(python, ["run"], WORK_DIR)
    print_scores(scores(WORK_DIR, args.paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
