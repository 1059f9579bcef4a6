#!/usr/bin/env python3
"""planted_test.py: the security checks can fail.

Runs sql_params_check.py on planted/sql and tls_check.py on planted/tls, where every insecure
line carries the marker PLANTED: each check must exit 1, report every planted line, and report
no other line (the safe examples beside them). Exit 0 when both hold.
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def planted_lines(folder):
    want = set()
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if "PLANTED" in line and not line.lstrip().startswith(("//", "#")):
                    want.add((name, n))
    return want


def check(tool, folder, strip_prefix):
    run = subprocess.run([sys.executable, os.path.join(HERE, tool), folder], capture_output=True, text=True)
    got = set()
    for line in run.stdout.splitlines():
        m = re.match(r"^(\S+?):(\d+): ", line)
        if m:
            got.add((m.group(1)[len(strip_prefix):] if m.group(1).startswith(strip_prefix) else m.group(1),
                     int(m.group(2))))
    want = planted_lines(folder)
    ok = run.returncode == 1 and got == want and want
    print(f"{tool}: exit {run.returncode}, {len(want)} planted, {len(got & want)} found, "
          f"{len(want - got)} missed, {len(got - want)} false alarms")
    for name, n in sorted(want - got):
        print(f"  missed: {folder}/{name}:{n}")
    for name, n in sorted(got - want):
        print(f"  false alarm: {folder}/{name}:{n}")
    if run.returncode not in (0, 1):
        print(run.stdout + run.stderr)
    return bool(ok)


def main():
    ok = check("sql_params_check.py", os.path.join(HERE, "planted", "sql"), "sql/")
    ok = check("tls_check.py", os.path.join(HERE, "planted", "tls"), "") and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
