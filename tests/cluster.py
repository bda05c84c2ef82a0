"""A real Redis Cluster of the tests' own: redis-server processes on free loopback ports, joined by
`redis-cli --cluster create`, stopped (or one of them killed with SIGKILL) by PID.

Every node keeps an append-only file fsync'ed every second, as a production cluster would; the failover test
relies on the replica, not on that file.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis as sync_redis


def _free_ports(n: int) -> list[int]:
    """n distinct free loopback ports (bound together, so no two are the same)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def binaries() -> tuple[str, str] | None:
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    return (server, cli) if server and cli else None


@dataclass
class Node:
    port: int
    bus_port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None

    def client(self) -> sync_redis.Redis:
        return sync_redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=2)


@dataclass
class LocalCluster:
    """`masters` primaries, each with `replicas` replicas; the client is given one node's URL."""

    masters: int = 3
    replicas: int = 0
    node_timeout_ms: int = 5000
    nodes: list[Node] = field(default_factory=list)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="redis-cluster-")))

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.nodes[0].port}/0"

    def start(self) -> None:
        found = binaries()
        if found is None:
            raise RuntimeError("redis-server or redis-cli is not installed")
        server, cli = found
        count = self.masters * (1 + self.replicas)
        ports = _free_ports(2 * count)
        try:
            for n in range(count):
                node = Node(ports[2 * n], ports[2 * n + 1], self.workdir / f"node-{n}")
                node.workdir.mkdir()
                self.nodes.append(node)
                self._spawn(server, node)
            for node in self.nodes:
                self._wait_ping(node)
            addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
            subprocess.run(
                [cli, "--cluster", "create", *addresses, "--cluster-replicas", str(self.replicas), "--cluster-yes"],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
            )
            self.wait_ok()
        except BaseException:
            self.stop()
            raise

    def _spawn(self, server: str, node: Node) -> None:
        node.proc = subprocess.Popen(
            [
                server,
                "--port",
                str(node.port),
                "--cluster-port",
                str(node.bus_port),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(node.workdir / "nodes.conf"),
                "--cluster-node-timeout",
                str(self.node_timeout_ms),
                # A replica takes over however long ago it last heard from its primary (the test kills it at once).
                "--cluster-replica-validity-factor",
                "0",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--dir",
                str(node.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    @staticmethod
    def _wait_ping(node: Node, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        client = node.client()
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except sync_redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {node.port} did not start")

    def alive(self) -> list[Node]:
        return [node for node in self.nodes if node.proc is not None and node.proc.poll() is None]

    def wait_ok(self, within: float = 30.0) -> None:
        """Every live node says cluster_state:ok, agrees on the primaries, and every replica's link is up."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self._settled():
                return
            time.sleep(0.1)
        raise RuntimeError("the cluster did not reach cluster_state:ok")

    def _settled(self) -> bool:
        try:
            views = set()
            for node in self.alive():
                client = node.client()
                if client.cluster("INFO").get("cluster_state") != "ok":  # type: ignore[union-attr]
                    return False
                info = client.info("replication")
                if info.get("role") == "slave" and info.get("master_link_status") != "up":
                    return False
                views.add(tuple(sorted(self._primaries_seen_by(client))))
            return len(views) == 1 and len(next(iter(views))) == self.masters
        except (sync_redis.RedisError, OSError):
            return False

    @staticmethod
    def _primaries_seen_by(client: sync_redis.Redis) -> list[int]:
        raw = client.execute_command("CLUSTER", "NODES")
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        ports = []
        for line in text.splitlines():
            parts = line.split()
            if len(parts) > 8 and "master" in parts[2] and "fail" not in parts[2]:
                ports.append(int(parts[1].split("@")[0].rsplit(":", 1)[1]))
        return ports

    def primaries(self) -> list[Node]:
        ports = set(self._primaries_seen_by(self.alive()[0].client()))
        return [node for node in self.alive() if node.port in ports]

    def primary_of(self, key: str) -> Node:
        client = self.alive()[0].client()
        slot = int(client.execute_command("CLUSTER", "KEYSLOT", key))
        for row in client.execute_command("CLUSTER", "SLOTS"):
            if int(row[0]) <= slot <= int(row[1]):
                port = int(row[2][1])
                return next(node for node in self.nodes if node.port == port)
        raise LookupError(f"no node serves slot {slot}")

    def flush(self) -> None:
        for node in self.primaries():
            node.client().flushall()

    def kill9(self, node: Node) -> None:
        if node.proc is not None:
            node.proc.send_signal(signal.SIGKILL)
            node.proc.wait(timeout=10)
            node.proc = None

    def stop(self) -> None:
        for node in self.nodes:
            if node.proc is not None:
                node.proc.kill()
                node.proc.wait(timeout=10)
                node.proc = None
        shutil.rmtree(self.workdir, ignore_errors=True)
