"""Scoring's HTTP API: one router per feature (`api/<feature>.py`), the daily run
(`api/daily_runs.py`), and the dependency they share (`api/dependencies.py`)."""

from fastapi import APIRouter

from services.scoring.api import customers, daily_runs, exports

ROUTERS: tuple[APIRouter, ...] = (
    customers.router,
    daily_runs.router,
    exports.router,
)
