"""Private loopback services for fault scenarios: Redis (primary, replica, Sentinel),
PostgreSQL (initdb under the postgres account) and nginx, each on free ports in a temporary
directory, each stopped by the pid it started. Nothing shared (5432, 6379) is ever touched."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args[0]} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def _stop(proc: subprocess.Popen | None, sig=signal.SIGTERM) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class PrivateRedis:
    """`redis-server` on a free port, no persistence; `replica_of` makes it a replica."""

    def __init__(self, workdir: Path, name: str = "redis", replica_of: int | None = None, port: int | None = None):
        self.dir = workdir / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.replica_of = replica_of
        self.proc: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
                "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log")]  # fmt: skip
        if self.replica_of:
            argv += ["--replicaof", "127.0.0.1", str(self.replica_of)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, proc=self.proc)
        return self

    def kill(self) -> None:
        _stop(self.proc, signal.SIGKILL)

    def stop(self) -> None:
        _stop(self.proc)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def cli(self, *args: str) -> str:
        out = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, timeout=10)
        return out.stdout.strip()


class PrivateSentinels:
    """A primary, a replica and `count` sentinels watching service `service` (quorum 1: one
    sentinel may decide, which is what a test needs and no production setting)."""

    def __init__(self, workdir: Path, count: int = 1, service: str = "biosync", down_after_ms: int = 1000):
        self.workdir, self.service, self.down_after_ms = workdir, service, down_after_ms
        self.primary = PrivateRedis(workdir, "primary")
        self.replica: PrivateRedis | None = None
        self.sentinel_ports = [free_port() for _ in range(count)]
        self.sentinels: list[subprocess.Popen] = []

    def start(self) -> PrivateSentinels:
        self.primary.start()
        self.replica = PrivateRedis(self.workdir, "replica", replica_of=self.primary.port).start()
        for i, port in enumerate(self.sentinel_ports):
            conf = self.workdir / f"sentinel-{i}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.workdir}\nlogfile {self.workdir}/sentinel-{i}.log\n"
                f"sentinel monitor {self.service} 127.0.0.1 {self.primary.port} 1\n"
                f"sentinel down-after-milliseconds {self.service} {self.down_after_ms}\n"
                f"sentinel failover-timeout {self.service} 10000\n"
                f"sentinel parallel-syncs {self.service} 1\n"
            )
            proc = subprocess.Popen(["redis-server", str(conf), "--sentinel"], stdout=subprocess.DEVNULL)
            self.sentinels.append(proc)
            wait_for_port(port, proc=proc)
        self.wait_until_replicated()
        return self

    def wait_until_replicated(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while "master_link_status:up" not in self.replica.cli("info", "replication"):
            if time.monotonic() > deadline:
                raise TimeoutError("the replica did not sync with the primary")
            time.sleep(0.1)

    def url(self, db: int = 0) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{db}/{self.service}"

    def primary_port(self) -> int:
        out = subprocess.run(
            ["redis-cli", "-p", str(self.sentinel_ports[0]), "sentinel", "get-master-addr-by-name", self.service],
            capture_output=True, text=True, timeout=10,
        )  # fmt: skip
        return int(out.stdout.split()[1])

    def kill_primary_and_wait_for_failover(self, timeout: float = 30.0) -> float:
        """SIGKILLs the primary; returns the seconds until the sentinels named the replica."""
        old = self.primary.port
        self.primary.kill()
        started = time.monotonic()
        while self.primary_port() == old:
            if time.monotonic() - started > timeout:
                raise TimeoutError("no failover")
            time.sleep(0.05)
        return time.monotonic() - started

    def stop(self) -> None:
        for proc in self.sentinels:
            _stop(proc)
        if self.replica:
            self.replica.stop()
        self.primary.stop()


POSTGRES_BIN = (sorted(glob.glob("/usr/lib/postgresql/*/bin")) or [""])[-1]


def _as_postgres(*argv, **kwargs):
    # initdb and postgres refuse to run as root; the machine's postgres account runs them.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *argv], check=True, capture_output=True, timeout=60, **kwargs)


class PrivatePostgres:
    def __init__(self, database: str = "faults"):
        self.dir = tempfile.mkdtemp(prefix="biosync-faults-pg-")
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self.data, self.port, self.database = os.path.join(self.dir, "data"), free_port(), database

    def create(self) -> PrivatePostgres:
        _as_postgres(f"{POSTGRES_BIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres")
        self.start()
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.database], check=True
        )
        return self

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        _as_postgres(f"{POSTGRES_BIN}/pg_ctl", "-D", self.data, "-o", options, "-w", "-l", f"{self.dir}/log", "start")

    def stop(self) -> None:
        _as_postgres(f"{POSTGRES_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, f"{POSTGRES_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)


NGINX_TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"


class PrivateNginx:
    """nginx in front of `upstreams` (host:port), from the committed deploy/nginx.conf with its
    upstream servers, listen port and paths replaced; runs as the invoking user."""

    def __init__(self, workdir: Path, upstreams: list[str], binary: str = "nginx"):
        self.binary = binary
        self.dir = workdir / "nginx"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.upstreams = upstreams
        self.proc: subprocess.Popen | None = None

    def config(self) -> str:
        text = NGINX_TEMPLATE.read_text()
        servers = "".join(f"        server {address};\n" for address in self.upstreams)
        start, end = text.index("# upstream servers: begin"), text.index("# upstream servers: end")
        text = text[: text.index("\n", start) + 1] + servers + "        " + text[end:]
        text = text.replace("listen 80;", f"listen 127.0.0.1:{self.port};")
        preamble = f"daemon off;\npid {self.dir}/nginx.pid;\nerror_log {self.dir}/error.log warn;\n" + (
            "user root;\n" if os.geteuid() == 0 else ""
        )
        temp = "".join(
            f"    {kind}_temp_path {self.dir}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        text = text.replace("http {\n", f"http {{\n    access_log off;\n{temp}", 1)
        return preamble + text

    def start(self) -> PrivateNginx:
        conf = self.dir / "nginx.conf"
        conf.write_text(self.config())
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(conf), "-p", str(self.dir), "-e", str(self.dir / "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port, proc=self.proc)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        _stop(self.proc, signal.SIGQUIT)
