"""Small helpers shared by the Python tests."""
import shutil
import subprocess
import sys


class Checks:
    """Prints each comparison as ok/FAIL and remembers the failures."""

    def __init__(self):
        self.failures = []

    def expect(self, what, ours, truth):
        ok = ours == truth
        print(f"{'ok  ' if ok else 'FAIL'} {what}: {ours!r}, expected {truth!r}")
        if not ok:
            self.failures.append(what)

    def finish(self, captures_dir=None):
        """Exits 1 if a check failed, keeping captures_dir to look at; else
        removes captures_dir and exits 0."""
        if self.failures:
            where = f"; captures kept in {captures_dir}" if captures_dir else ""
            print(f"\n{len(self.failures)} checks failed{where}")
            sys.exit(1)
        if captures_dir:
            shutil.rmtree(captures_dir, ignore_errors=True)
        sys.exit(0)


def substitute(query, values):
    """Grafana's template variables ($name and ${name}) replaced by values;
    longer names first so $interface is not taken for $interval."""
    for k in sorted(values, key=len, reverse=True):
        query = query.replace("${" + k + "}", values[k]).replace("$" + k, values[k])
    return query


def stop_daemon(proc, log, workdir):
    """Stops a test's own server (SIGTERM, SIGKILL after 10 s), closes its log
    and removes its data folder."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    shutil.rmtree(workdir, ignore_errors=True)
