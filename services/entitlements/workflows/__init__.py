"""Entitlements' use cases, one module per feature: the call center's look-ups (`customers`),
redemptions and reversals (`redemptions`), vendors, contracts and featured services (`vendors`) and
the daily run's roll-over of value-added periods (`periods`, `DAILY_RUN_STEPS`)."""
