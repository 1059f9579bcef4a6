"""The chaos suite's driver (scripts/chaos runs it; see that script's header for usage).

Runs the chosen scenarios (each a module of this folder with run(build, env, form) -> counts),
writes each one's result file var/chaos/<scenario>.json, and prints the report: one table over
every result file in var/chaos/ (including those other suites write there, e.g. lost_replies),
then the same as JSON. Exit 0 when every scenario that ran held, 1 when one did not, 2 on bad
usage.
"""
import argparse
import glob
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chaos_common import ROOT, Build, ChaosFailure, say, stack_env, write_result  # noqa: E402

SCENARIOS = ["plugin_faults", "racing_runners", "db_faults", "sigkill_steps"]
COLUMNS = ["runs", "converged", "duplicates", "lost", "crashes"]


def report(as_json_only=False):
    rows = []
    for path in sorted(glob.glob(os.path.join(ROOT, "var", "chaos", "*.json"))):
        try:
            with open(path) as f:
                r = json.load(f)
            row = {"scenario": str(r["scenario"])}
            for c in COLUMNS:
                row[c] = int(r[c])
        except (OSError, ValueError, KeyError, TypeError) as e:
            say(f"{path}: not a scenario result ({e}); left out of the report")
            continue
        for extra in ("form", "finished_at", "ok"):
            if extra in r:
                row[extra] = r[extra]
        rows.append(row)
    if not as_json_only:
        head = f"{'scenario':<22}" + "".join(f"{c:>11}" for c in COLUMNS) + "  form   finished"
        print(head)
        print("-" * len(head))
        for row in rows:
            print(f"{row['scenario']:<22}" + "".join(f"{row[c]:>11}" for c in COLUMNS) +
                  f"  {row.get('form', '-'):<6} {row.get('finished_at', '-')}")
    print(json.dumps({"scenarios": rows}, separators=(",", ":")))


def main():
    ap = argparse.ArgumentParser(prog="scripts/chaos")
    ap.add_argument("--long", action="store_true")
    ap.add_argument("--report", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--scenario", action="append", choices=SCENARIOS)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    if a.report and not a.scenario and not a.long:
        report(a.json)
        return 0
    form = "long" if a.long else "short"
    try:
        build = Build(a.build_dir)
        env = stack_env()
    except ChaosFailure as e:
        say(f"error: {e}")
        return 2
    failed = []
    for name in a.scenario or SCENARIOS:
        say(f"--- {name} ({form} form)")
        module = __import__(name)
        try:
            counts = module.run(build, env, form)
        except ChaosFailure as e:
            say(f"{name}: {e}")
            counts = {"runs": 0, "converged": 0, "duplicates": 0, "lost": 0, "crashes": 0,
                      "details": {"error": str(e)}, "ok": False}
        except Exception as e:  # a bug of the suite itself: recorded, never a pass
            traceback.print_exc()
            counts = {"runs": 0, "converged": 0, "duplicates": 0, "lost": 0, "crashes": 0,
                      "details": {"error": f"{type(e).__name__}: {e}"}, "ok": False}
        r = write_result(name, form, counts["runs"], counts["converged"], counts["duplicates"], counts["lost"],
                         counts["crashes"], counts["details"], counts["ok"])
        say(f"{name}: runs {r['runs']}, converged {r['converged']}, duplicates {r['duplicates']}, "
            f"lost {r['lost']}, crashes {r['crashes']}: {'held' if r['ok'] else 'FAILED'}")
        if not r["ok"]:
            failed.append(name)
    if a.report or a.json:
        report(a.json)
    if failed:
        say(f"failed: {', '.join(failed)} (details in var/chaos/<scenario>.json)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
