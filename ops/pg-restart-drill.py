#!/usr/bin/env python3
"""PostgreSQL restart drill (issue 20).

Runs its own throwaway PostgreSQL cluster (initdb and pg_ctl from the
distribution, on a free port, as the `postgres` user when run as root), so
that stopping it disturbs nothing else:

1. `lianxin demo`, `lianxin serve` on the cluster; four clients open cases
   without pause and note every acknowledged (201) case;
2. PostgreSQL stops (`pg_ctl stop -m fast`) for 3 s: `/readyz` answers 503
   and so does every case opened, at once (the health check's flag, not
   the pool's 10 s acquire timeout), and never a 500; requests in flight
   at the stop end 201 or 503;
3. PostgreSQL starts again: `/readyz` is 200 and a case is accepted within
   5 s of the cluster accepting connections, without restarting lianxin;
4. the clients go on for 3 s; then every acknowledged case is in the
   database, read back through the API and counted with psql.

    python3 ops/pg-restart-drill.py
Prints 'N passed, N failed'; exits 1 on a failure.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from drill_lib import Checks, Database, Server, free_port, login, open_case, psql, request, say  # noqa: E402

OUTAGE_S = 3.0


def pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: [int(x) for x in p.split("/")[4].split(".") if x.isdigit()])
    if found:
        return found[-1]
    path = shutil.which(name)
    if not path:
        sys.exit(f"{name} not found: install the distribution's postgresql package")
    return path


class Cluster:
    """A PostgreSQL cluster of its own in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="lianxin-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        self.run(pg_bin("initdb"), "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        self.start()

    def run(self, *args):
        out = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: {out.stdout}{out.stderr}")

    def start(self):
        self.run(pg_bin("pg_ctl"), "-D", self.data, "-l", os.path.join(self.dir, "pg.log"), "-w", "-t", "60",
                 "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off",
                 "start")

    def stop(self):
        self.run(pg_bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop")

    def destroy(self):
        subprocess.run([*self.as_user, pg_bin("pg_ctl"), "-D", self.data, "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def client(base, token, n, stop, acked, seen):
    i = n * 1_000_000
    while not stop.is_set():
        i += 1
        t0 = time.time()
        try:
            status, body = open_case(base, token, i, "pg-restart", timeout=15)
        except OSError:
            status, body = "error", None
        seen.append((t0, time.time(), status))
        if status == 201:
            acked.append(body["id"])
        elif status != 201:
            time.sleep(0.05)


def wait_for(what, fn, timeout):
    """Seconds until fn() is true, or None after `timeout`."""
    start = time.time()
    while time.time() - start < timeout:
        if fn():
            return time.time() - start
        time.sleep(0.05)
    return None


def main():
    checks = Checks()
    cluster = Cluster()
    db = server = None
    try:
        db = Database("postgres", base_url=cluster.url)
        db.cli("demo")
        server = Server(db)
        token = login(server.base)
        stop, acked, seen = threading.Event(), [], []
        clients = [threading.Thread(target=client, args=(server.base, token, n, stop, acked, seen))
                   for n in range(4)]
        for t in clients:
            t.start()
        time.sleep(3)
        before = len(acked)
        checks.check(before > 0, f"cases acknowledged before the restart ({before})")

        say("stopping PostgreSQL")
        cluster.stop()
        down_at = time.time()
        readyz, probes = [], []
        time.sleep(0.6)  # the health check pings every 500 ms
        while time.time() - down_at < OUTAGE_S:
            readyz.append(request(server.base, "GET", "/readyz", timeout=5)[0])
            t0 = time.time()
            status = open_case(server.base, token, len(probes), "pg-restart-outage", timeout=15)[0]
            probes.append((status, time.time() - t0))
            time.sleep(0.1)
        checks.check(readyz and set(readyz) == {503}, f"/readyz 503 during the outage ({readyz[-5:]})")
        checks.check(probes and {s for s, _ in probes} == {503},
                     f"cases opened during the outage answered 503 ({len(probes)}: {sorted({s for s, _ in probes})})")
        slowest = max((d for _, d in probes), default=0)
        checks.check(slowest <= 0.5, f"at once (slowest {slowest * 1000:.0f} ms)")
        say("starting PostgreSQL")
        cluster.start()
        up_at = time.time()
        ready_s = wait_for("readyz", lambda: request(server.base, "GET", "/readyz", timeout=5)[0] == 200, 30)
        checks.check(ready_s is not None and ready_s <= 5, f"/readyz 200 {ready_s and round(ready_s, 2)} s after PostgreSQL is back")
        accept_s = wait_for("a case", lambda: open_case(server.base, token, 999_999, "pg-restart-probe")[0] == 201, 30)
        checks.check(accept_s is not None and accept_s <= 5, f"a case accepted {accept_s and round(accept_s, 2)} s after PostgreSQL is back")
        time.sleep(3)
        stop.set()
        for t in clients:
            t.join()

        # Requests already in flight when PostgreSQL stopped wait for a
        # connection (the pool's acquire timeout, 10 s): they end 201
        # (saved once it is back) or 503, never anything else.
        inflight = [(t0, t1, s) for t0, t1, s in seen if t0 < down_at < t1]
        say(f"in flight at the stop: {[(s, round(t1 - t0, 2)) for t0, t1, s in inflight]}")
        slowest = max((t1 - t0 for t0, t1, _ in seen), default=0)
        checks.check(slowest <= 11, f"no write waited past the pool's acquire timeout (slowest {slowest:.2f} s)")
        all_statuses = sorted({s for _, _, s in seen}, key=str)
        checks.check(set(all_statuses) <= {201, 503}, f"only 201 and 503 over the whole run ({all_statuses})")
        after = len(acked) - before
        checks.check(after > 0, f"cases acknowledged after the restart ({after})")
        missing = [cid for cid in acked if request(server.base, "GET", f"/api/v1/cases/{cid}", token)[0] != 200]
        checks.check(not missing, f"every acknowledged case reads back ({len(acked)} acknowledged, {len(missing)} missing)")
        stored = int(psql(db.url, "SELECT count(*) FROM cases WHERE summary LIKE 'pg-restart%'").strip())
        checks.check(stored >= len(acked), f"the database holds every acknowledged case ({stored} stored ≥ {len(acked)})")
    finally:
        if server:
            server.stop()
        if db:
            db.drop()
        cluster.destroy()
    checks.done()


if __name__ == "__main__":
    main()
