"""Durable dead letters, the daily-run log, the append-only audit log, and the inbox index for its purge.

The same in every service (shared/migrations.py, definitions in shared/messaging_tables.py).

Revision ID: 0002
Revises: 0001
"""

from shared.migrations import create_platform_tables as upgrade
from shared.migrations import drop_platform_tables as downgrade

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

__all__ = ["downgrade", "upgrade"]
