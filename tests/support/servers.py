"""Real server processes on loopback for tests and benchmarks.

Nothing here is a fake: ``redis-server`` and ``gunicorn`` are started as
processes on free ports and stopped when done, so outages can be made by
killing the real thing.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll ``check`` until it returns true, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not come up within {timeout} s")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass(frozen=True)
class Certificate:
    """A self-signed CA (``ca``) and a server certificate it signed for localhost and
    127.0.0.1 (``cert``, ``key``): what a TLS test server needs."""

    ca: Path
    cert: Path
    key: Path

    @classmethod
    def make(cls, folder: Path, names: str = "DNS:localhost,IP:127.0.0.1") -> Certificate:
        """New keys and certificates in ``folder``, through the openssl program; the
        server's for ``names`` (openssl's subjectAltName list)."""
        openssl = shutil.which("openssl")
        if openssl is None:
            raise RuntimeError("openssl is not installed (apt-get install openssl)")
        ca, ca_key = folder / "ca.pem", folder / "ca.key"
        cert, key, request = folder / "server.pem", folder / "server.key", folder / "server.csr"
        san = folder / "san.cnf"
        san.write_text(f"subjectAltName={names}\n")

        def run(*args: str) -> None:
            subprocess.run([openssl, *args], check=True, capture_output=True)

        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test CA",
            "-keyout", str(ca_key), "-out", str(ca))  # fmt: skip
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", str(key), "-out", str(request))  # fmt: skip
        run("x509", "-req", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key),
            "-CAcreateserial", "-days", "1", "-extfile", str(san), "-out", str(cert))  # fmt: skip
        return cls(ca, cert, key)


class RedisServer:
    """A throwaway ``redis-server`` without persistence on a fixed free port.

    The port stays the same across ``stop()`` and ``start()`` so a client can
    watch Redis go away and come back at the same address.
    """

    def __init__(
        self,
        password: str | None = None,
        tls: Certificate | None = None,
        cluster: Path | None = None,
    ) -> None:
        """``tls``: serve TLS only, with this certificate (no plain port). ``cluster``: a
        folder for its node file; run in cluster mode as one node owning every slot (as
        ElastiCache Serverless does behind its endpoint: keys of one transaction must
        share a slot)."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.password = password
        self.tls = tls
        self.cluster = cluster
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--loglevel",
            "warning",
        ]
        if self.password:
            args += ["--requirepass", self.password]
        if self.cluster is not None:
            # The bus port is the port + 10000 unless given: past 65535, or taken.
            args += ["--cluster-enabled", "yes", "--cluster-port", str(free_port()),
                     "--cluster-config-file", str(self.cluster / f"nodes-{self.port}.conf")]  # fmt: skip
        if self.tls is not None:
            args[1:3] = ["--port", "0", "--tls-port", str(self.port)]
            args += ["--tls-cert-file", str(self.tls.cert), "--tls-key-file", str(self.tls.key),
                     "--tls-ca-cert-file", str(self.tls.ca), "--tls-auth-clients", "no"]  # fmt: skip
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        wait_until(lambda: _port_open(self.port), 10, f"redis-server on port {self.port}")
        if self.cluster is not None:
            self._own_every_slot()
        return self

    def _own_every_slot(self) -> None:
        """A fresh cluster node serves nothing until slots are assigned."""
        import redis

        tls = {"ssl": True, "ssl_ca_certs": str(self.tls.ca)} if self.tls else {}
        client = redis.Redis(port=self.port, password=self.password, **tls)  # type: ignore[arg-type]
        if client.cluster("info").get("cluster_state") != "ok":
            client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        wait_until(lambda: client.cluster("info").get("cluster_state") == "ok", 10,
                   f"redis cluster on port {self.port}")  # fmt: skip

    def stop(self) -> None:
        """Kill it outright, as a crashed or replaced task would vanish."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def pause(self) -> None:
        """SIGSTOP: the port still accepts connections, nothing ever answers (a hung task)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after ``pause()``."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Gunicorn:
    """gunicorn serving a WSGI app from ``frontend/`` with the shipped config."""

    def __init__(
        self,
        app: str = "app:create_app()",
        env: Mapping[str, str] | None = None,
        workers: int = 2,
        threads: int = 4,
        extra_args: tuple[str, ...] = (),
        log: Path | None = None,
        frontend: Path = FRONTEND,
    ) -> None:
        """``log``: a file for gunicorn's stdout and stderr (else stderr shows, stdout is
        dropped); ``frontend``: the app's folder (another checkout, for a benchmark)."""
        self.port = free_port()
        self.log = log
        self.frontend = frontend
        self.app = app
        self.env = {
            **os.environ,
            **(env or {}),
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_THREADS": str(threads),
        }
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        args = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{self.port}",
            *self.extra_args,
            self.app,
        ]
        if self.log is None:
            self.process = subprocess.Popen(
                args, cwd=self.frontend, env=self.env, stdout=subprocess.DEVNULL
            )
        else:
            with self.log.open("ab") as out:
                self.process = subprocess.Popen(
                    args, cwd=self.frontend, env=self.env, stdout=out, stderr=out
                )
        wait_until(self._healthy, 20, f"gunicorn on port {self.port}")
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def stop(self) -> int:
        """SIGTERM, as ECS stops a task; returns gunicorn's exit code."""
        if self.process is None:
            return 0
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.process = None
        return code

    def quit(self) -> None:
        """SIGQUIT, gunicorn's quick shutdown: for tests done with the server, which
        need not wait out the gevent worker's graceful stop (about a second)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGQUIT)
            self.process.wait(timeout=30)
            self.process = None

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.quit()


class MotoServer:
    """``moto_server``, a local AWS answering real boto3 calls over HTTP, on a free port.

    ``env`` is what a process needs to talk to it and nothing else: the
    endpoint, dummy credentials, a region, and no shared config files or
    instance metadata, so that nothing reaches AWS.

    It is moto's own server (``moto.server.main``), started by a few lines of
    Python that first import the ``preload`` backends: a backend is otherwise
    imported by the first request for it, and CloudFormation's imports most of
    moto (~2 s of CPU). ``start(wait=False)`` lets the caller do other work
    meanwhile; ``wait()``, ``reset()`` and ``hold()`` wait for it to answer.
    """

    REGION = "eu-west-1"

    def __init__(self, running_tasks: int = 1, preload: Sequence[str] = ()) -> None:
        """``running_tasks``: what moto reports as running in each new ECS service
        (``MOTO_ECS_SERVICE_RUNNING``; moto starts no task itself); ``preload``:
        moto's names of the backends to import before serving (``ecs``, ``ssm`` ...)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.running_tasks = running_tasks
        self.preload = tuple(preload)
        self.process: subprocess.Popen[bytes] | None = None
        self._up = False

    @property
    def env(self) -> dict[str, str]:
        return {**without_aws(os.environ), **CREDENTIALS, "AWS_ENDPOINT_URL": self.url,
                "AWS_REGION": self.REGION}  # fmt: skip

    def start(self, wait: bool = True) -> MotoServer:
        env = {
            **os.environ,
            "MOTO_ECS_SERVICE_RUNNING": str(self.running_tasks),
            # No default AMIs (thousands of images and snapshots in each region's EC2
            # backend, made again after every reset): ~0.3 s of CPU each time.
            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", _MOTO_MAIN, ",".join(self.preload),
             "-H", "127.0.0.1", "-p", str(self.port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        return self.wait() if wait else self

    def wait(self) -> MotoServer:
        """Until it answers (the preloaded backends imported)."""
        if not self._up:
            assert self.process is not None, "start() it first"
            try:
                wait_until(self._serving, 30, f"moto_server on port {self.port}")
            except (TimeoutError, RuntimeError):
                self.stop()
                raise
            self._up = True
        return self

    def _serving(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {self.process.returncode}")
        return _port_open(self.port)

    def reset(self) -> None:
        """Forget every resource (moto's own API), for the next test."""
        request = urllib.request.Request(f"{self.wait().url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def hold(self, model: str) -> None:
        """Keep ``model``'s resources (``ecs::task``) in their first state, where moto
        would otherwise move them on to the last (a task to STOPPED) when read."""
        body = {"model_name": model, "transition": {"progression": "manual", "times": 10**6}}
        request = urllib.request.Request(
            f"{self.wait().url}/moto-api/state-manager/set-transition",
            data=json.dumps(body).encode(), method="POST",
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
            self._up = False

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# moto_server: argv[1] the backends to import first (comma-separated), then
# moto_server's own arguments. botocore gives every Session() a new loader, which
# parses each service model again; moto's EC2 backend makes three to list regions,
# each parsing EC2's model (the largest). One loader for all (its data is only
# read) saves ~0.5 s of CPU.
_MOTO_MAIN = """
import functools, sys
import botocore.session
botocore.session.create_loader = functools.cache(botocore.session.create_loader)
from moto.backends import get_backend
from moto.server import main
for name in filter(None, sys.argv[1].split(",")):
    get_backend(name)
main(sys.argv[2:])
"""


# Dummy credentials, as moto's documentation uses: never a real account's.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def without_aws(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with no AWS settings or credentials at all: no ``AWS_*``
    variable, no shared config or credentials files, no instance metadata."""
    kept = {k: v for k, v in environ.items() if not k.startswith("AWS_")}
    return {**kept, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true"}  # fmt: skip


def timed_get(
    port: int, path: str = "/", timeout: float = 10, headers: Mapping[str, str] | None = None
) -> tuple[int, float]:
    """One GET on a fresh connection: the status (0 on a timeout or reset) and seconds taken."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=dict(headers or {}))
        response = conn.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = 0
    finally:
        conn.close()
    return status, time.monotonic() - started


class SlowClients:
    """``count`` connections to ``port`` that send a request's headers a byte at a time.

    Each starts a request line and then trickles one header byte every
    ``interval`` seconds, never finishing: a slowloris. With ``trickle=False``
    they connect and send nothing at all (idle connections).
    """

    def __init__(self, port: int, count: int, trickle: bool = True, interval: float = 0.5) -> None:
        self.port = port
        self.count = count
        self.trickle = trickle
        self.interval = interval
        self.sockets: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drip, daemon=True)

    def __enter__(self) -> SlowClients:
        for _ in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            if self.trickle:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            self.sockets.append(sock)
        if self.trickle:
            self._thread.start()
        return self

    def _drip(self) -> None:
        while not self._stop.wait(self.interval):
            for sock in self.sockets:
                # The server may have given up on it: that is its right.
                with contextlib.suppress(OSError):
                    sock.send(b"a")

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()
