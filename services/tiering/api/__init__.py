"""Tiering's HTTP API: one router per feature (`api/<feature>.py`), the daily run
(`api/daily_runs.py`), and the dependency they share (`api/dependencies.py`)."""

from fastapi import APIRouter

from services.tiering.api import customers, daily_runs, exports, group, honorary

ROUTERS: tuple[APIRouter, ...] = (
    customers.router,
    honorary.router,
    group.router,
    exports.router,
    daily_runs.router,
)
