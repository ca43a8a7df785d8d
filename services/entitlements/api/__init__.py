"""Entitlements' HTTP API: one router per feature (`api/<feature>.py`), the daily run
(`api/daily_runs.py`), and the dependency they share (`api/dependencies.py`)."""

from fastapi import APIRouter

from services.entitlements.api import (
    customers,
    daily_runs,
    featured,
    group_clients,
    group_records,
    group_reports,
    redemptions,
    reports,
    vendors,
)

ROUTERS: tuple[APIRouter, ...] = (
    customers.router,
    redemptions.router,
    vendors.router,
    featured.router,
    reports.router,
    group_records.router,
    group_clients.router,
    group_reports.router,
    daily_runs.router,
)
