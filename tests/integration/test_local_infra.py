"""The local launchers for real: embedded PostgreSQL, the Tansu broker, the child supervisor.

Each test checks that stopping leaves no process behind, since `vip up` and the fault tests rely on it.
"""

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from cli.broker import TansuBroker
from cli.launch import LaunchError, free_port, process_alive
from cli.postgres import EmbeddedPostgres, ExternalPostgres
from cli.supervisor import Backoff, ChildSpec, SupervisedChild
from shared.kafka import ensure_topics


async def _select(url: str, sql: str) -> object:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(text(sql))
    finally:
        await engine.dispose()


async def _eventually(condition: Callable[[], bool], *, timeout_s: float = 10.0) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not true within {timeout_s} s")


def _gone(pid: int, *, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not process_alive(pid):
            return True
        time.sleep(0.05)
    return False


async def test_embedded_postgres_round_trip_restart_and_stop(tmp_path: Path) -> None:
    server = EmbeddedPostgres()
    server.start(tmp_path / "pgdata")
    try:
        pid = server.pid
        assert pid is not None
        assert await server.create_databases(["vip_scoring", "vip_tiering"]) == ["vip_scoring", "vip_tiering"]
        assert await server.create_databases(["vip_scoring"]) == []
        url = server.database_url("vip_scoring")
        assert url.startswith("postgresql+asyncpg://postgres@/vip_scoring?host=")
        assert await _select(url, "SELECT current_database()") == "vip_scoring"

        server.stop_server(mode="fast")
        assert server.pid is None
        with pytest.raises((OperationalError, DBAPIError, OSError)):
            await _select(url, "SELECT 1")
        server.start_server()
        assert await _select(url, "SELECT current_database()") == "vip_scoring"

        external = ExternalPostgres(server.server_url())
        assert await external.create_databases(["vip_tiering", "vip_assignment"]) == ["vip_assignment"]
        assert external.database_url("vip_assignment") == server.database_url("vip_assignment")
        last_pid = server.pid
    finally:
        server.stop()
    assert last_pid is not None and _gone(last_pid)
    assert not list((tmp_path / "pgdata").glob("postmaster.pid"))


async def test_embedded_postgres_keeps_its_data_between_runs(tmp_path: Path) -> None:
    for expected in [["vip_entitlements"], []]:
        server = EmbeddedPostgres()
        server.start(tmp_path / "pgdata")
        try:
            assert await server.create_databases(["vip_entitlements"]) == expected
        finally:
            server.stop()


async def test_tansu_produce_consume_pause_and_stop(tmp_path: Path) -> None:
    broker = TansuBroker(log_dir=tmp_path)
    broker.start(free_port())
    pid = broker.pid
    assert pid is not None
    try:
        await ensure_topics(bootstrap_servers=broker.bootstrap_servers, topics=["t.round-trip"], partitions=8)
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all", linger_ms=5)
        await producer.start()
        try:
            await producer.send_and_wait("t.round-trip", b'{"n": 1}', key=b"C000981")
        finally:
            await producer.stop()
        broker.pause()
        assert psutil.Process(pid).status() == psutil.STATUS_STOPPED
        broker.resume()
        consumer = AIOKafkaConsumer(
            "t.round-trip",
            bootstrap_servers=broker.bootstrap_servers,
            group_id=None,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=20,
        )
        await consumer.start()
        try:
            record = await asyncio.wait_for(consumer.getone(), timeout=10)
        finally:
            await consumer.stop()
        assert (record.key, record.value) == (b"C000981", b'{"n": 1}')

        with pytest.raises(LaunchError, match="already in use"):
            TansuBroker(log_dir=tmp_path / "second").start(broker.port or 0)
    finally:
        broker.stop()
    assert _gone(pid)
    assert "listening on" in (tmp_path / "tansu.log").read_text()


async def test_tansu_stops_even_while_paused(tmp_path: Path) -> None:
    broker = TansuBroker(log_dir=tmp_path)
    broker.start(free_port())
    pid = broker.pid
    assert pid is not None
    broker.pause()
    broker.stop()
    assert _gone(pid)


def _spec(tmp_path: Path, name: str, code: str) -> ChildSpec:
    return ChildSpec(name=name, argv=(sys.executable, "-c", code), env={}, log_path=tmp_path / f"{name}.log")


async def test_supervisor_restarts_a_crashing_child_with_backoff(tmp_path: Path) -> None:
    reports: list[str] = []
    child = SupervisedChild(
        _spec(tmp_path, "crasher", "print('up', flush=True); raise SystemExit(3)"),
        report=reports.append,
        backoff=Backoff(initial_s=0.05, max_s=0.2),
    )
    await child.start()
    await _eventually(lambda: child.restarts >= 3)
    await child.stop(grace_s=1.0)
    assert child.restarts >= 3
    assert reports[0].startswith("crasher exited with code 3")
    assert "restart #1 in 0.05 s" in reports[0]
    assert (tmp_path / "crasher.log").read_text().count("up\n") >= 3


async def test_supervisor_kills_a_child_that_ignores_sigterm_and_its_children(tmp_path: Path) -> None:
    code = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    reports: list[str] = []
    child = SupervisedChild(_spec(tmp_path, "stubborn", code), report=reports.append)
    await child.start()
    pid = child.pid
    assert pid is not None
    await _eventually(lambda: "ready" in (tmp_path / "stubborn.log").read_text())
    grandchildren = psutil.Process(pid).children(recursive=True)
    assert grandchildren
    started = time.monotonic()
    await child.stop(grace_s=0.5)
    assert time.monotonic() - started < 5
    assert any("did not stop within 0.5 s" in line for line in reports)
    assert _gone(pid)
    assert all(_gone(process.pid) for process in grandchildren)
    assert child.restarts == 0
