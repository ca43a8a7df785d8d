"""Assignment's HTTP API: one router per feature (`api/<feature>.py`), the daily run
(`api/daily_runs.py`), and the dependency they share (`api/dependencies.py`)."""

from fastapi import APIRouter

from services.assignment.api import account_managers, campaigns, customers, daily_runs, duties, representatives

ROUTERS: tuple[APIRouter, ...] = (
    representatives.router,
    customers.router,
    account_managers.router,
    duties.router,
    campaigns.router,
    daily_runs.router,
)
