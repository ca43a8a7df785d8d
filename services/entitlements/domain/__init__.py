"""Entitlement rules of rules.md section 6, pure: one module per rule family.

`catalog` (services), `periods` (value-added periods and their roll-over), `entitlements` (the
call center's list and the redemption decision), `vendors` (contracts, cost bearers, the branch),
`customers` (the customer as entitlements keeps them). Import from the submodules.
"""
