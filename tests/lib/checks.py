"""Small helpers shared by the Python tests."""


class Checks:
    """Prints each comparison as ok/FAIL and remembers the failures."""

    def __init__(self):
        self.failures = []

    def expect(self, what, ours, truth):
        ok = ours == truth
        print(f"{'ok  ' if ok else 'FAIL'} {what}: {ours!r}, expected {truth!r}")
        if not ok:
            self.failures.append(what)


def substitute(query, values):
    """Grafana's template variables ($name and ${name}) replaced by values;
    longer names first so $interface is not taken for $interval."""
    for k in sorted(values, key=len, reverse=True):
        query = query.replace("${" + k + "}", values[k]).replace("$" + k, values[k])
    return query
