#!/usr/bin/env python3
"""Restore drill (issue 20), on SQLite or PostgreSQL:

1. a fresh database with the demo data; `lianxin serve`; 150 cases opened;
2. cases go on being opened while `lianxin backup --to FILE --key KEY`
   runs; every acknowledged case is noted with the time it was answered;
3. the server stops; a wrong key and a non-empty target are refused;
4. `lianxin restore --from FILE --key KEY --verify` into a fresh database;
5. a server on the restored database: the case count lies between the
   cases acknowledged before the backup began and those acknowledged by
   its end, and a sample of cases acknowledged before it reads back the
   same (number, category, summary, status, created_at).

    python3 ops/restore-drill.py sqlite|postgres
Prints 'N passed, N failed'; exits 1 on a failure.
"""
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from drill_lib import Checks, Database, Server, login, open_case, request, say  # noqa: E402

FIELDS = ("number", "category", "summary", "status", "created_at")


def writer(base, token, stop, acked):
    i = 10_000
    while not stop.is_set():
        i += 1
        status, body = open_case(base, token, i, "during-backup")
        if status == 201:
            acked.append((time.time(), body["id"]))


def main(engine):
    checks = Checks()
    source, target = Database(engine), Database(engine)
    server = restored = None
    try:
        source.cli("demo")
        server = Server(source)
        token = login(server.base)
        before = []
        for i in range(150):
            status, body = open_case(server.base, token, i)
            if status == 201:
                before.append(body["id"])
        checks.check(len(before) == 150, f"150 cases opened before the backup ({len(before)})")

        key = os.path.join(source.dir, "backup.key")
        with open(key, "wb") as f:
            f.write(os.urandom(32))
        backup = os.path.join(source.dir, "lianxin.backup")
        stop, acked = threading.Event(), []
        t = threading.Thread(target=writer, args=(server.base, token, stop, acked))
        t.start()
        time.sleep(0.5)
        began = time.time()
        out = source.cli("backup", "--to", backup, "--key", key, check=False)
        ended = time.time()
        time.sleep(0.3)
        stop.set()
        t.join()
        checks.check(out.returncode == 0, f"backup while cases were opened: {out.stdout.strip() or out.stderr.strip()}")
        n_before = len(before) + sum(1 for at, _ in acked if at < began)
        n_after = len(before) + sum(1 for at, _ in acked if at <= ended)
        say(f"acknowledged: {n_before} before the backup began, {n_after} by its end, {len(before) + len(acked)} in all")
        checks.check(len(acked) > 0, f"writes went on during the backup ({len(acked)} cases)")
        with open(backup, "rb") as f:
            head = f.read(64)
        checks.check(head.startswith(b"LXBK1\n") and b"SQLite" not in head and b"PGDMP" not in head,
                     "the backup file is encrypted")

        sample = random.Random(7).sample(before, 20)
        original = {cid: request(server.base, "GET", f"/api/v1/cases/{cid}", token)[1] for cid in sample}
        server.stop()
        server = None

        wrong = os.path.join(source.dir, "wrong.key")
        with open(wrong, "wb") as f:
            f.write(os.urandom(32))
        out = target.cli("restore", "--from", backup, "--key", wrong, check=False)
        checks.check(out.returncode != 0 and "wrong key" in out.stderr, "a wrong key is refused")
        out = source.cli("restore", "--from", backup, "--key", key, check=False)
        checks.check(out.returncode != 0 and ("holds" in out.stderr), "a database holding data is not overwritten")

        out = target.cli("restore", "--from", backup, "--key", key, "--verify", check=False)
        checks.check(out.returncode == 0, f"restore --verify: {out.stdout.strip() or out.stderr.strip()}")
        restored = Server(target)
        rtoken = login(restored.base)
        report = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {"counts": {}}
        cases = report["counts"].get("cases", -1)
        checks.check(n_before <= cases <= len(before) + len(acked),
                     f"restored {cases} cases: at least the {n_before} acknowledged before the backup began")
        same = 0
        for cid in sample:
            status, body = request(restored.base, "GET", f"/api/v1/cases/{cid}", rtoken)
            if status == 200 and all(body.get(k) == original[cid].get(k) for k in FIELDS):
                same += 1
        checks.check(same == len(sample), f"{same} of {len(sample)} sampled cases read back the same")
        status, body = open_case(restored.base, rtoken, 99_999, "after-restore")
        checks.check(status == 201, f"the restored server opens a new case ({status})")
    finally:
        for s in (server, restored):
            if s:
                s.stop()
        source.drop()
        target.drop()
    checks.done()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "sqlite")
