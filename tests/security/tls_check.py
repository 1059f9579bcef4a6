#!/usr/bin/env python3
"""tls_check.py: no insecure TLS anywhere in the code, scripts and configuration.

Usage: tls_check.py --allow ALLOW_FILE ROOT

Walks ROOT (skipping .git, build*, var, node_modules and tests/security itself) and reports every
line that turns certificate or host verification off:

  - libcurl: CURLOPT_SSL_VERIFYPEER / CURLOPT_SSL_VERIFYHOST / CURLOPT_PROXY_SSL_VERIFY* set to 0;
  - curl -k / --insecure, wget --no-check-certificate, git -c http.sslVerify=false,
    GIT_SSL_NO_VERIFY;
  - PostgreSQL sslmode=disable|allow|prefer, unless the same line names a loopback host
    (127.0.0.1, localhost, ::1);
  - Go InsecureSkipVerify: true, Python verify=False, Node NODE_TLS_REJECT_UNAUTHORIZED=0 and
    rejectUnauthorized: false, kubeconfig insecure-skip-tls-verify: true.

A line listed in ALLOW_FILE (`path-suffix  text-on-the-line  # reason`, the reason required) is
accepted; an entry that matches nothing is reported as stale. Exit 0: clean; 1: findings; 2: usage.
"""
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from check_common import load_allow, parse_args, report_stale, source_files  # noqa: E402

RULES = [
    ("libcurl verification off", re.compile(
        r"CURLOPT_(?:PROXY_)?SSL_VERIFY(?:PEER|HOST|STATUS)\s*,\s*(?:0+L?|false|FALSE)\b")),
    ("curl without verification", re.compile(r"\bcurl\b[^\n|;&]*\s(?:-k|--insecure)\b")),
    ("curl without verification", re.compile(r"\bcurl\b[^\n|;&]*\s-[a-zA-Z]*k[a-zA-Z]*\s")),
    ("wget without verification", re.compile(r"--no-check-certificate")),
    ("git without verification", re.compile(r"http\.sslVerify\s*[= ]\s*(?:false|0)|GIT_SSL_NO_VERIFY", re.I)),
    ("PostgreSQL without TLS to a non-loopback host", re.compile(r"sslmode=(?:disable|allow|prefer)\b")),
    ("Go InsecureSkipVerify", re.compile(r"InsecureSkipVerify\s*:\s*true")),
    ("Python verify=False", re.compile(r"verify\s*=\s*False")),
    ("Node verification off", re.compile(r"NODE_TLS_REJECT_UNAUTHORIZED\s*=\s*['\"]?0|rejectUnauthorized\s*:\s*false")),
    ("kubeconfig verification off", re.compile(r"insecure-skip-tls-verify\s*:\s*true")),
]
LOOPBACK = re.compile(r"127\.0\.0\.1|localhost|\[::1\]|@::1\b")
SKIP_DIRS = {".git", "var", "node_modules"}
TEXT_EXT = (".cc", ".h", ".hpp", ".c", ".py", ".sh", ".bash", ".conf", ".yaml", ".yml", ".json", ".md", ".txt",
            ".cmake", ".in", ".service", ".timer", ".tf", ".tpl", ".js", ".ts", ".go", ".sql", ".toml", ".ini",
            ".env", ".example")


def text_file(path):
    name = os.path.basename(path)
    if name.endswith(TEXT_EXT) or name in ("Dockerfile", "CMakeLists.txt", "Makefile"):
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(200)
        return head.startswith(b"#!") and b"\0" not in head
    except OSError:
        return False


def skipped(rel_dir):
    name = os.path.basename(rel_dir)
    return name in SKIP_DIRS or name.startswith("build") or rel_dir == os.path.join("tests", "security")


def scan(root):
    hits = []
    for path in source_files(root, text_file, skipped):
        rel = os.path.normpath(os.path.relpath(path, root))
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read().split("\n")
        except OSError:
            continue
        for n, line in enumerate(lines, 1):
            for what, rx in RULES:
                if rx.search(line):
                    if what.startswith("PostgreSQL") and LOOPBACK.search(line):
                        continue
                    hits.append((rel, n, what, line.strip()))
                    break
    return hits


def main(argv):
    allow_path, roots = parse_args(argv)
    if len(roots) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    allow = load_allow(allow_path, "text-on-the-line")
    bad = []
    for rel, n, what, line in scan(roots[0]):
        hit = [e for e in allow if rel.endswith(e.suffix) and e.text in line]
        for e in hit:
            e.uses += 1
        if not hit:
            bad.append((rel, n, what, line))
    for rel, n, what, line in bad:
        print(f"{rel}:{n}: {what}: {line[:160]}")
    stale = report_stale(allow, allow_path)
    print(f"tls_check: {len(bad)} findings, {len(allow) - len(stale)} allow-list entries used, {len(stale)} stale")
    return 1 if bad or stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
