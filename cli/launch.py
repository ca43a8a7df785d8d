"""What starting a local server takes, whichever server: a free port, a log tail for the error
message, and whether a process is still alive."""

import os
import socket
from contextlib import closing
from pathlib import Path

import psutil


class LaunchError(RuntimeError):
    """A local server did not come up; the message says why and where its log is."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now; another process may still take it before the caller binds it."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """No one listens on the port. SO_REUSEADDR, as servers set it: TIME_WAIT leftovers don't count."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def log_tail(path: Path, *, lines: int = 20) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 64 * 1024))
        text = handle.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def process_alive(pid: int) -> bool:
    """Running, and not a zombie (an exited child its parent has not reaped yet)."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False

