"""Tiering's rules (rules.md sections 4 and 5), pure: no I/O, no clock, no framework, no wire contract.

One module per rule family: `tiers` (which standard, which tier, why), `customers` (folding each
input into a customer's tiering state), `reasons` (the sentence stored with every decision),
`honorary` (the five-step approval chain of honorary applications). Import from the submodules.
"""
