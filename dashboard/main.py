"""`python -m dashboard.main`: the operations dashboard on `VIP_HTTP_PORT` (8005 under `vip up`)."""

import logging

from dashboard.app import create_app
from dashboard.config import DashboardSettings
from shared.logs import configure_logging


def main() -> None:
    import uvicorn

    settings = DashboardSettings()
    configure_logging(service="dashboard", level=settings.log_level, as_json=settings.log_json)
    # httpx logs every request at INFO; the dashboard's polling would drown the log.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_config=None,
                access_log=False, timeout_graceful_shutdown=5)


if __name__ == "__main__":
    main()
