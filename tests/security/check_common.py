"""check_common.py: what the static security checks (sql_params_check.py, tls_check.py) share:
their command line (`--allow ALLOW_FILE ROOT...`), the walk over the source files, and the
allow-list (`path-suffix<TAB or 2+ spaces>text<2+ spaces># reason`, the reason required; an entry
that matches nothing is reported as stale, so the list stays honest).
"""
import os
import re
import sys


class AllowEntry:
    """One allow-list line: a path suffix, the text it accepts there, why, and how often it matched."""

    def __init__(self, suffix, text, reason, line):
        self.suffix, self.text, self.reason, self.line = suffix, text, reason, line
        self.uses = 0


def parse_args(argv):
    """(allow-list path or None, [roots]) from `--allow FILE ROOT...`."""
    allow_path, roots = None, []
    i = 0
    while i < len(argv):
        if argv[i] == "--allow" and i + 1 < len(argv):
            allow_path = argv[i + 1]
            i += 2
        else:
            roots.append(argv[i])
            i += 1
    return allow_path, roots


def load_allow(path, what):
    """The entries of allow-list `path` ([] for None); exits 2 naming the line of a malformed one.
    `what` names the middle field in that message ("operand", "text-on-the-line")."""
    if not path:
        return []
    entries = []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            m = re.match(r"^(\S+)(?:\t+| {2,})(.+?)(?:\t+| {2,})#\s*(\S.*)$", line)
            if not m:
                print(f"{path}:{n}: expected 'path  {what}  # reason'", file=sys.stderr)
                sys.exit(2)
            entries.append(AllowEntry(m.group(1), m.group(2), m.group(3), n))
    return entries


def report_stale(allow, allow_path):
    """Prints and returns the entries that matched nothing."""
    stale = [e for e in allow if e.uses == 0]
    for e in stale:
        print(f"{allow_path}:{e.line}: allow-list entry '{e.suffix}  {e.text}' matches nothing any more: remove it")
    return stale


def source_files(root, wanted, skip_dir=lambda rel: False):
    """Paths of the files under `root` for which wanted(path) holds, in sorted order, not following
    symbolic links to files; a folder whose path relative to root satisfies skip_dir is not entered."""
    for top, dirs, names in os.walk(root):
        rel_top = os.path.relpath(top, root)
        dirs[:] = sorted(d for d in dirs if not skip_dir(os.path.normpath(os.path.join(rel_top, d))))
        for name in sorted(names):
            path = os.path.join(top, name)
            if not os.path.islink(path) and wanted(path):
                yield path
