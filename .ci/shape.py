#!/usr/bin/env python3
"""The shape of backend/src, checked in CI (issue 13):

1. no import cycle between files;
2. the layers of ARCHITECTURE.md hold: a file imports only files of its
   own layer or below (see LAYERS);
3. no file over 400 lines and no function over 80 (tests excluded), except
   the ones listed in ALLOWED with the size they had when the rule came in:
   they may shrink, never grow, and a new file or function gets no pass.

Run from the repository root: python3 .ci/shape.py. Exit 1 on a violation.
"""
import os
import re
import sys

ROOT = "backend/src"

# Lowest first. A file's layer is the first prefix (path relative to
# backend/src) that matches it.
LAYERS = [
    ("pure", ["vocab/", "clock.rs", "error.rs", "config/", "shutdown.rs",
              "cases/model.rs", "cases/contact_safety.rs", "referrals/settings.rs", "measures/settings.rs", "notify/sms_settings.rs",
              "calendar/mod.rs", "calendar/file.rs", "patch.rs"]),
    ("store", ["db/", "regions/", "events/", "deadlines/", "audit/", "notify/mod.rs", "notify/lease.rs", "telemetry.rs",
               "referrals/entity.rs", "mediation/entity.rs", "notify/sms.rs", "measures/entity.rs",
               "cases/reporter.rs", "backup/", "calendar/store.rs", "hotline/entity.rs", "ledger/entity.rs"]),
    ("work", ["work.rs"]),
    ("core", ["cases/routing.rs", "cases/clocks.rs", "cases/record.rs", "cases/scope.rs", "cases/view.rs",
              "cases/directory.rs", "cases/intake_queue.rs", "escalation/engine.rs", "escalation/opening.rs",
              "escalation/chain.rs", "escalation/view.rs", "escalation/tighten.rs",
              "escalation/mail.rs", "escalation/kinds.rs", "auth/", "realtime/",
              "referrals/engine.rs", "referrals/clocks.rs", "referrals/scope.rs",
              "referrals/view.rs", "referrals/recipients.rs", "referrals/mail.rs",
              "referrals/record.rs", "referrals/kinds.rs",
              "mediation/rules.rs", "mediation/read.rs", "mediation/steps.rs",
              "mediation/agreement.rs", "mediation/clocks.rs", "mediation/view.rs",
              "mediation/document.rs",
              "measures/view.rs", "measures/mail.rs", "measures/recording.rs", "measures/kinds.rs",
              "measures/decide.rs", "measures/clocks.rs",
              "hotline/schedule.rs", "hotline/view.rs",
              "ledger/record.rs", "ledger/parse.rs", "ledger/store.rs", "ledger/link.rs",
              "ledger/scope.rs", "ledger/view.rs", "ledger/kinds.rs", "ledger/clocks.rs"]),
    ("state", ["state.rs"]),
    ("usecase", ["cases/", "escalation/", "calls/", "admin/", "reports/", "notify/outbox.rs", "demo.rs",
                 "referrals/", "mediation/", "measures/", "hotline/", "ledger/"]),
    ("driver", ["http/", "scheduler/", "notify/sender.rs", "notify/sms_sender.rs", "server.rs", "app.rs",
                "main.rs", "lib.rs"]),
]

# Known oversize items when the rule came in: (path, what) -> size.
ALLOWED = {
}
ALLOWED_FNS = {}  # filled from ALLOWED_FN_LINES below
ALLOWED_FN_LINES = [
]
for p, name, n in ALLOWED_FN_LINES:
    ALLOWED_FNS[(p, name)] = n


def layer_of(path):
    rel = os.path.relpath(path, ROOT)
    for i, (_, prefixes) in enumerate(LAYERS):
        for pre in prefixes:
            if rel == pre or (pre.endswith("/") and rel.startswith(pre)):
                return i
    return None


def load():
    files = {}
    for d, _, names in os.walk(ROOT):
        for f in names:
            if f.endswith(".rs"):
                p = os.path.join(d, f)
                text = open(p, encoding="utf8").read()
                cut = text.find("#[cfg(test)]")
                files[p] = text if cut < 0 else text[:cut]
    return files


def module_file(files, parts):
    for n in range(len(parts), 0, -1):
        base = os.path.join(ROOT, *parts[:n])
        for cand in (base + ".rs", os.path.join(base, "mod.rs")):
            if cand in files:
                return cand
    return None


def use_paths(tree):
    """'a::{b, c::{d}}' -> [['a','b'], ['a','c','d']]"""
    tree = re.sub(r"\s+", "", tree)
    parts, depth, cur = [], 0, ""
    for ch in tree:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    out = []
    for part in filter(None, parts):
        i = part.find("{")
        if i < 0:
            out.append([x for x in part.split("::") if x and x not in ("self", "*")])
        else:
            head = [x for x in part[:i].split("::") if x]
            for sub in use_paths(part[i + 1:part.rfind("}")]):
                out.append(head + sub)
    return out


def imports(files):
    graph = {p: set() for p in files}
    for p, text in files.items():
        here = [x for x in os.path.relpath(os.path.dirname(p), ROOT).split(os.sep) if x != "."]
        if p.endswith("mod.rs"):
            module, parent = here, here[:-1]
        else:
            module, parent = here + [os.path.basename(p)[:-3]], here
        refs = []
        for m in re.finditer(r"\buse\s+([^;]+);", text):
            refs.extend(use_paths(m.group(1)))
        for m in re.finditer(r"\b(crate|super)::((?:[a-z_][a-z0-9_]*::)*[a-z_][a-z0-9_]*)", text):
            refs.append([m.group(1)] + m.group(2).split("::"))
        for path in refs:
            if not path:
                continue
            if path[0] == "crate":
                path = path[1:]
            elif path[0] == "super":
                path = parent + path[1:]
            elif path[0] == "self":
                path = module + path[1:]
            else:
                continue
            path = [x for x in path if re.match(r"^[a-z_][a-z0-9_]*$", x)]
            target = module_file(files, path)
            if target and target != p:
                graph[p].add(target)
    return graph


def cycles(graph):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def long_functions(path, text):
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        m = re.match(r"^\s*(pub(\([a-z]+\))?\s+)?(async\s+)?fn\s+([a-z_][a-z0-9_]*)", line)
        if not m or line.rstrip().endswith(";"):
            continue
        depth, started = 0, False
        for j in range(i, len(lines)):
            depth += lines[j].count("{") - lines[j].count("}")
            started = started or "{" in lines[j]
            if started and depth <= 0:
                out.append((m.group(4), j - i + 1, i + 1))
                break
    return out


def schema_name_clashes(files):
    """Two `ToSchema` types with one name: utoipa keeps one of them in the
    served OpenAPI document, so the other's operations document the wrong
    body. Rename with `#[schema(as = ...)]`."""
    seen = {}
    for p, text in files.items():
        for m in re.finditer(
                r"utoipa::ToSchema[^\]]*\]\n((?:\s*#\[[^\n]*\]\n)*)\s*pub (?:struct|enum) (\w+)", text):
            a = re.search(r"schema\(as = (\w+)\)", m.group(1))
            seen.setdefault(a.group(1) if a else m.group(2), []).append(os.path.relpath(p, ROOT))
    return [f"openapi: schema name {n} is defined by {', '.join(sorted(ps))}"
            for n, ps in sorted(seen.items()) if len(ps) > 1]


def main():
    files = load()
    graph = imports(files)
    problems = []
    for comp in cycles(graph):
        problems.append("import cycle: " + " -> ".join(os.path.relpath(c, ROOT) for c in comp))
    for p, targets in sorted(graph.items()):
        lp = layer_of(p)
        if lp is None:
            problems.append(f"{p}: in no layer (add it to LAYERS in .ci/shape.py)")
            continue
        for t in sorted(targets):
            lt = layer_of(t)
            if lt is not None and lt > lp:
                problems.append(
                    f"layer: {os.path.relpath(p, ROOT)} ({LAYERS[lp][0]}) imports "
                    f"{os.path.relpath(t, ROOT)} ({LAYERS[lt][0]})")
    for p, text in sorted(files.items()):
        n = len(text.rstrip("\n").split("\n"))  # tests excluded
        limit = ALLOWED.get((p, "file"), 400)
        if n > limit:
            problems.append(f"size: {p} has {n} lines (limit {limit})")
        for name, length, line in long_functions(p, text):
            limit = ALLOWED_FNS.get((p, name), 80)
            if length > limit:
                problems.append(f"size: {p}:{line} fn {name} has {length} lines (limit {limit})")
    problems += schema_name_clashes(files)
    for msg in problems:
        print(msg)
    print(f"shape: {len(files)} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
