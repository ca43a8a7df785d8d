"""`vip up` runs the operations dashboard as a fifth child on base+4 and prints its address."""

import sys
from pathlib import Path

from cli.children import UpOptions, dashboard_spec
from cli.layout import SERVICES, dashboard_port
from cli.startup import banner
from cli.tokens import TokenSet


class _Postgres:
    description = "test PostgreSQL"

    def database_url(self, database: str) -> str:
        return f"postgresql+asyncpg://u@h/{database}"


def _tokens() -> TokenSet:
    return TokenSet(api_tokens="tok=ops", dev_token="tok", source="test")


def test_the_dashboard_child_reads_this_runs_services_and_broker(tmp_path: Path) -> None:
    options = UpOptions(data_dir=tmp_path, http_port_base=9101)
    spec = dashboard_spec(options=options, bootstrap_servers="127.0.0.1:9999", tokens=_tokens(),
                          base_env={"VIP_SCORING_URL": "http://elsewhere:1", "PATH": "/bin"})
    assert spec.argv == (sys.executable, "-m", "dashboard.main")
    assert spec.env["VIP_HTTP_PORT"] == "9105" == str(dashboard_port(base=9101))
    assert spec.env["VIP_API_TOKENS"] == "tok=ops"
    assert spec.env["VIP_KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:9999"
    for service in SERVICES:
        assert spec.env[service.url_env_var] == f"http://127.0.0.1:{service.port(base=9101)}"
    assert spec.env["PATH"] == "/bin"
    assert spec.log_path == tmp_path / "logs" / "dashboard.log"


def test_the_banner_prints_the_dashboard_address(tmp_path: Path) -> None:
    text = banner(options=UpOptions(data_dir=tmp_path, http_port_base=8001), postgres=_Postgres(),  # type: ignore[arg-type]
                  broker="b", tokens=_tokens())
    assert "dashboard     http://127.0.0.1:8005/" in text
