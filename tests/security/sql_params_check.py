#!/usr/bin/env python3
"""sql_params_check.py: every SQL statement takes user values as parameters.

Usage: sql_params_check.py --allow ALLOW_FILE DIR...

Scans the C++ sources (*.cc, *.h) under each DIR for SQL text built by concatenation: a string
literal that reads as SQL joined with `+` to something else. Each joined operand must be safe:

  - another literal (string, number, character);
  - a quoting call: quote(...), quote_name(...), esc(...), esc_raw(...) (pqxx) on any object;
  - std::to_string(...) (a number cannot inject SQL);
  - a local variable or constant of the same file whose every assignment is itself built only of
    safe operands (e.g. `const std::string role = tx.quote_name(name);`).

Anything else is reported with file, line and operand, unless ALLOW_FILE lists it. The allow-list
has one entry a line: `path-suffix<TAB or 2+ spaces>operand<2+ spaces># reason`; the reason is
required; `*` in the operand matches anything. An allow-listed operand is trusted wherever it
appears in that file. An entry that no longer matches anything is reported too, so the list stays
honest.
Exit 0: no finding. Exit 1: findings (listed). Exit 2: usage or allow-list error.
"""
import fnmatch
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from check_common import load_allow, parse_args, report_stale, source_files  # noqa: E402

SQL_START = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|GRANT|REVOKE|TRUNCATE|COMMENT\s+ON|SET\s+|WITH\s|"
    r"LOCK\s|COPY\s|VALUES|DO\s)")
SQL_INSIDE = re.compile(
    r"\b(FROM|WHERE|VALUES|RETURNING|OWNER\s+TO|ON\s+CONFLICT|ON\s+DATABASE|ON\s+SCHEMA|ON\s+TABLE|"
    r"IN\s+SCHEMA|ORDER\s+BY|GROUP\s+BY|AND|OR|SET|JOIN|LIMIT)\b")


def tokenize(text):
    """C++ tokens with their line: (kind, value, line). Comments dropped; literals kept whole."""
    toks = []
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
        elif c == "#" and (i == 0 or text[i - 1] == "\n"):  # preprocessor line
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif re.match(r'(?:u8|u|U|L)?R"', text[i:i + 4]):
            m = re.match(r'(?:u8|u|U|L)?R"([^(\s]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i + m.end())
            end = n if end < 0 else end + len(m.group(1)) + 2
            toks.append(("str", text[i + m.end():end - len(m.group(1)) - 2], line))
            line += text.count("\n", i, end)
            i = end
        elif c == '"' or (c in "uUL" and text[i + 1:i + 2] == '"'):
            j = text.index('"', i) + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            toks.append(("str", text[text.index('"', i) + 1:j], line))
            i = j + 1
        elif c == "'":
            j = i + 1
            while j < n and text[j] != "'":
                j += 2 if text[j] == "\\" else 1
            toks.append(("chr", text[i:j + 1], line))
            i = j + 1
        elif c.isalnum() or c == "_":
            m = re.match(r"[\w.']+", text[i:]) if c.isdigit() else re.match(r"\w+", text[i:])
            toks.append(("num" if c.isdigit() else "id", m.group(0), line))
            i += m.end()
        else:
            m = re.match(r"->|::|\+=|==|!=|<=|>=|&&|\|\||<<|>>|\+\+|--|.", text[i:], re.S)
            toks.append(("op", m.group(0), line))
            i += m.end()
    # Adjacent string literals are one literal.
    merged = []
    for t in toks:
        if t[0] == "str" and merged and merged[-1][0] == "str":
            merged[-1] = ("str", merged[-1][1] + t[1], merged[-1][2])
        else:
            merged.append(t)
    return merged


OPEN = {"(": ")", "[": "]", "{": "}"}
CLOSE = {v: k for k, v in OPEN.items()}


def operand_right(toks, i):
    """The operand starting at toks[i]: returns (end index exclusive, text)."""
    j = i
    if j < len(toks) and toks[j][1] in ("-", "!", "*", "&") and toks[j][0] == "op":
        j += 1
    if j >= len(toks):
        return j, ""
    if toks[j][1] == "(" and toks[j][0] == "op":
        j = skip_balanced(toks, j)
    else:
        j += 1
    while j < len(toks):
        v = toks[j][1]
        if toks[j][0] == "op" and v in (".", "->", "::") and j + 1 < len(toks):
            j += 2
        elif toks[j][0] == "op" and v in ("(", "["):
            j = skip_balanced(toks, j)
        elif toks[j][0] == "op" and v == "<" and toks[j - 1][0] == "id" and looks_template(toks, j):
            j = skip_angle(toks, j)
        else:
            break
    return j, join(toks[i:j])


def operand_left(toks, i):
    """The operand ending at toks[i] (inclusive): returns (start index, text)."""
    j = i
    while j >= 0:
        v = toks[j][1]
        if toks[j][0] == "op" and v in (")", "]"):
            j = skip_balanced_back(toks, j)
            if j - 1 >= 0 and toks[j - 1][0] == "id":
                j -= 1
        if j - 1 >= 0 and toks[j - 1][0] == "op" and toks[j - 1][1] in (".", "->", "::"):
            j -= 2
            continue
        break
    return j, join(toks[j:i + 1])


def skip_balanced(toks, j):
    depth = 0
    while j < len(toks):
        v = toks[j][1]
        if toks[j][0] == "op" and v in OPEN:
            depth += 1
        elif toks[j][0] == "op" and v in CLOSE:
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return j


def skip_balanced_back(toks, j):
    depth = 0
    while j >= 0:
        v = toks[j][1]
        if toks[j][0] == "op" and v in CLOSE:
            depth += 1
        elif toks[j][0] == "op" and v in OPEN:
            depth -= 1
            if depth == 0:
                return j
        j -= 1
    return 0


def looks_template(toks, j):
    return toks[j - 1][1] in ("static_cast", "get", "as", "vector", "optional", "string_view")


def skip_angle(toks, j):
    depth = 0
    while j < len(toks):
        if toks[j][1] == "<":
            depth += 1
        elif toks[j][1] == ">":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return j


def join(ts):
    out = ""
    for kind, v, _ in ts:
        out += '"' + v + '"' if kind == "str" else v
    return out


def looks_sql(s):
    return bool(SQL_START.search(s)) or len(SQL_INSIDE.findall(s)) >= 1 and bool(re.search(r"[A-Z]{3,}\s", s))


def plus_chain(toks, k):
    """Every operand of the `+` chain through the literal toks[k]: [(start, end, line), ...]."""
    ops = []
    a, b = k, k + 1  # a literal wrapped as std::string("...") joins the chain around the wrapper
    while (a >= 2 and b < len(toks) and toks[a - 1][1] == "(" and toks[b][1] == ")" and
           toks[a - 2][1] in ("string", "string_view")):
        a -= 2
        while a >= 2 and toks[a - 1][1] == "::" and toks[a - 2][0] == "id":
            a -= 2
        b += 1
    k = a
    j = b
    while j < len(toks) and toks[j][0] == "op" and toks[j][1] == "+":
        end, _ = operand_right(toks, j + 1)
        ops.append((j + 1, end, toks[j][2]))
        j = end
    j = k - 1
    while j >= 0 and toks[j][0] == "op" and toks[j][1] in ("+", "+="):
        start, _ = operand_left(toks, j - 1)
        ops.append((start, j, toks[j][2]))  # for `x += "SQL"`, x keeps building the statement
        if toks[j][1] == "+=":
            break
        j = start - 1
    return ops


SAFE_FUNCS = {"quote", "quote_name", "quote_table", "esc", "esc_raw", "to_string"}
WRAPPERS = {"string", "string_view"}  # std::string(x) is as safe as x
DECL_BEFORE = {"auto", ">", "&", "*", ","}


class FileScan:
    def __init__(self, path, rel):
        self.rel = rel
        with open(path, encoding="utf-8", errors="replace") as f:
            self.toks = tokenize(f.read())
        # Brace depth of each token, and whether every brace around it opens a namespace (a
        # constant declared there is visible in the rest of the file).
        self.depth, self.at_namespace = [], []
        d, stack = 0, []
        for k, (kind, v, _) in enumerate(self.toks):
            if kind == "op" and v == "}":
                d -= 1
                if stack:
                    stack.pop()
            self.depth.append(d)
            self.at_namespace.append(all(stack))
            if kind == "op" and v == "{":
                d += 1
                m = k - 1
                while m >= 0 and (self.toks[m][0] == "id" or self.toks[m][1] == "::") and self.toks[m][1] != "namespace":
                    m -= 1
                stack.append(m >= 0 and self.toks[m][1] == "namespace")
        self.assignments = {}  # name -> [token index of the name], for `name =`, `name +=`, `name{`
        for i, (kind, v, _) in enumerate(self.toks):
            if kind == "id" and i + 1 < len(self.toks) and self.toks[i + 1][1] in ("=", "+=", "{", ";"):
                if self.toks[i + 1][1] == ";" and not (i > 0 and self.toks[i - 1][0] == "id"):
                    continue  # `x;` is a statement, `std::string x;` a declaration
                if i > 0 and self.toks[i - 1][1] in (".", "->", "::"):
                    continue
                self.assignments.setdefault(v, []).append(i)

        # Functions defined at namespace level: name -> [token index of their body's `{`].
        self.functions = {}
        for k, (kind, v, _) in enumerate(self.toks):
            if kind == "id" and self.at_namespace[k] and k + 1 < len(self.toks) and self.toks[k + 1][1] == "(":
                m = skip_balanced(self.toks, k + 1)
                while m < len(self.toks) and self.toks[m][1] in ("const", "override", "noexcept", "final"):
                    m += 1
                if m < len(self.toks) and self.toks[m][1] == "{":
                    self.functions.setdefault(v, []).append(m)
        self.allow = []

    def allowed(self, text):
        for e in self.allow:
            t = text.replace(" ", "")
            if self.rel.endswith(e.suffix) and (t == e.text or ("*" in e.text and fnmatch.fnmatchcase(t, e.text))):
                e.uses += 1
                return True
        return False

    def returns_safe(self, name, seen):
        """A function of this file whose every return value is safe (its parameters are not)."""
        key = "fn:" + name
        if key in seen:
            return True
        if name not in self.functions:
            return False
        for body in self.functions[name]:
            end = self.matching(body)
            for k in range(body, end):
                if self.toks[k] == ("id", "return", self.toks[k][2]):
                    if not self.safe(k + 1, self.value_end(k + 1), seen | {key}):
                        return False
        return True

    def top_level(self, i, j, ops):
        """Indices in [i, j) of tokens among `ops` outside any bracket."""
        out, depth = [], 0
        for k in range(i, j):
            kind, v, _ = self.toks[k]
            if kind != "op":
                continue
            if v in OPEN:
                depth += 1
            elif v in CLOSE:
                depth -= 1
            elif depth == 0 and v in ops:
                out.append(k)
        return out

    def value_end(self, start):
        """Where the value starting at `start` ends: `;` or `,` outside brackets, or a closing one."""
        depth = 0
        for k in range(start, len(self.toks)):
            kind, v, _ = self.toks[k]
            if kind != "op":
                continue
            if v in OPEN:
                depth += 1
            elif v in CLOSE:
                if depth == 0:
                    return k
                depth -= 1
            elif depth == 0 and v in (";", ","):
                return k
        return len(self.toks)

    def matching(self, i):
        return skip_balanced(self.toks, i) - 1

    def safe(self, i, j, seen=frozenset()):
        toks = self.toks
        if i >= j:
            return True
        if self.allowed(join(toks[i:j])):
            return True
        pluses = self.top_level(i, j, ("+",))
        if pluses:
            bounds = [i] + [p + 1 for p in pluses]
            ends = pluses + [j]
            return all(self.safe(a, b, seen) for a, b in zip(bounds, ends))
        q = self.top_level(i, j, ("?",))
        if q:
            c = self.top_level(q[0] + 1, j, (":",))
            return bool(c) and self.safe(q[0] + 1, c[0], seen) and self.safe(c[0] + 1, j, seen)
        if j - i == 1 and toks[i][0] in ("str", "chr", "num"):
            return True
        if toks[i][1] == "(" and self.matching(i) == j - 1:
            return self.safe(i + 1, j - 1, seen)
        # [qualifier (. -> ::)]* NAME ( args )
        k = i
        while k + 2 < j and toks[k][0] == "id" and toks[k + 1][1] in (".", "->", "::"):
            k += 2
        if toks[k][0] == "id" and k + 1 < j and toks[k + 1][1] == "(" and self.matching(k + 1) == j - 1:
            if toks[k][1] in SAFE_FUNCS:
                return True
            if toks[k][1] in WRAPPERS:
                return self.safe(k + 2, j - 1, seen)
            return self.returns_safe(toks[k][1], seen)
        if j - i == 1 and toks[i][0] == "id":
            return self.variable_safe(i, seen)
        return False

    def variable_safe(self, u, seen):
        """A local whose every assignment, from its declaration in scope up to `u`, is safe."""
        name = self.toks[u][1]
        if name in seen:
            return True  # a recursive build: decided by its other assignments
        cands = [a for a in self.assignments.get(name, []) if a < u or self.at_namespace[a]]
        decl = None
        for a in reversed(cands):
            if self.toks[a - 1][0] == "id" or self.toks[a - 1][1] in DECL_BEFORE:
                if self.at_namespace[a] or min(self.depth[a:u + 1]) >= self.depth[a]:
                    decl = a
                    break
        if decl is None:
            return False  # a parameter, member or global: its value comes from elsewhere
        for a in cands:
            if a < decl:
                continue
            start = a + 2 if self.toks[a + 1][1] in ("=", "+=") else a + 1
            end = start
            if self.toks[a + 1][1] == ";":
                continue  # declared empty
            if self.toks[a + 1][1] == "{":
                end = self.matching(a + 1)
            else:
                end = self.value_end(start)
            if not self.safe(start, end, seen | {name}):
                return False
        return True

    def findings(self):
        out = []
        for k, (kind, v, line) in enumerate(self.toks):
            if kind != "str" or not looks_sql(v):
                continue
            for a, b, op_line in plus_chain(self.toks, k):
                if not self.safe(a, b):
                    out.append((self.rel, op_line, join(self.toks[a:b])))
        return sorted(set(out))


def main(argv):
    allow_path, dirs = parse_args(argv)
    if not dirs:
        print(__doc__, file=sys.stderr)
        return 2
    allow = load_allow(allow_path, "operand")
    for e in allow:
        e.text = e.text.replace(" ", "")  # operands compare without spaces
    bad, files = [], 0
    for d in dirs:
        for path in source_files(d, lambda p: p.endswith((".cc", ".h"))):
            files += 1
            scan = FileScan(path, os.path.relpath(path, os.path.dirname(os.path.abspath(d))))
            scan.allow = allow
            bad += scan.findings()
    for rel, line, text in bad:
        print(f"{rel}:{line}: SQL built with '{text}', which is neither a parameter ($n) nor quoted "
              f"(quote/quote_name/esc) nor a number")
    stale = report_stale(allow, allow_path)
    print(f"sql_params_check: {files} files, {len(allow) - len(stale)} allow-list entries used, "
          f"{len(bad)} findings, {len(stale)} stale entries")
    return 1 if bad or stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
