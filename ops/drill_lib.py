"""What the operations drills share (ops/*-drill.py): start `lianxin` as
its own process on a fresh database, speak to it over HTTP, open cases.

Standard library only. Every wait is bounded; every server started is
stopped at the end (`Server.stop`), and every database made is dropped.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PASSWORD = "12338-demo-hotline"
PG_URL = os.environ.get("LIANXIN_CI_PG_URL", "postgres://postgres@127.0.0.1:5432/test")


def say(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def binary():
    for cand in (os.environ.get("LIANXIN_BIN"),
                 os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "debug", "lianxin"),
                 os.path.join(ROOT, "target", "debug", "lianxin")):
        if cand and os.path.exists(cand):
            return cand
    sys.exit("no lianxin binary: cargo build -p lianxin, or set LIANXIN_BIN")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(url, sql):
    return subprocess.run(["psql", url, "-Atqc", sql], check=True, capture_output=True, text=True).stdout


class Database:
    """A fresh database: a SQLite file in a new directory, or a new
    PostgreSQL database on PG_URL (dropped by `drop`)."""

    def __init__(self, engine, base_url=PG_URL):
        self.engine = engine
        self.dir = tempfile.mkdtemp(prefix="lianxin-drill-")
        if engine == "sqlite":
            self.url = f"sqlite://{self.dir}/lianxin.db?mode=rwc"
            self.name = None
        else:
            self.name = f"lianxin_drill_{uuid.uuid4().hex[:12]}"
            psql(base_url, f'CREATE DATABASE "{self.name}"')
            self.admin_url = base_url
            self.url = base_url.rsplit("/", 1)[0] + "/" + self.name
        with open(os.path.join(self.dir, "drill.toml"), "w") as f:
            f.write(f'data_dir = "{self.dir}"\nstatic_dir = "{ROOT}/frontend-dist"\n')

    def env(self, extra=None):
        env = dict(os.environ)
        env.update({"LIANXIN_DATABASE_URL": self.url, "LIANXIN_CONFIG": os.path.join(self.dir, "drill.toml"),
                    "RUST_LOG": os.environ.get("RUST_LOG", "warn")})
        env.update(extra or {})
        return env

    def cli(self, *args, check=True, extra_env=None):
        out = subprocess.run([binary(), *args], env=self.env(extra_env), capture_output=True, text=True, timeout=600)
        if check and out.returncode != 0:
            raise RuntimeError(f"lianxin {' '.join(args)} failed: {out.stderr.strip()}")
        return out

    def drop(self):
        if self.name:
            subprocess.run(["psql", self.admin_url, "-Atqc", f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'],
                           capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class Server:
    def __init__(self, db, port=None, extra_env=None, log_name="server.log"):
        self.db = db
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = db.env({"LIANXIN_LISTEN": f"127.0.0.1:{self.port}", **(extra_env or {})})
        self.log = open(os.path.join(db.dir, log_name), "ab")
        self.proc = subprocess.Popen([binary(), "serve"], env=env, stdout=self.log, stderr=self.log)
        self.wait_ready()

    def wait_ready(self, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log.name}")
            try:
                if request(self.base, "GET", "/readyz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server not ready")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def request(base, method, path, token=None, body=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if body is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw[:1] in (b"{", b"[") else raw)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw


def login(base, user="operator"):
    status, body = request(base, "POST", "/api/v1/auth/login", body={"username": user, "password": PASSWORD})
    if status != 200:
        raise RuntimeError(f"login {user}: {status} {body}")
    return body["token"]


def case_body(i, tag="drill"):
    return {"category": "neighbor_dispute", "region_code": "450321101201",
            "summary": f"{tag}: 邻里纠纷 {i}", "subject": {"phone": f"139{i % 100_000_000:08d}"}}


def open_case(base, token, i, tag="drill", timeout=10):
    """(status, body) of one POST /cases."""
    return request(base, "POST", "/api/v1/cases", token, case_body(i, tag), timeout=timeout)


class Checks:
    """Counts checks; `done` prints 'N passed, N failed' and exits."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
            say(f"ok   {what}")
        else:
            self.failed += 1
            say(f"FAIL {what}")

    def done(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(1 if self.failed else 0)
