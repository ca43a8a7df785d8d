"""Scoring's pure rules over frozen values (rules.md sections 1-4): no I/O, no clock, no framework.

- `policies`: the policy value the rules read, and what a policy change means (stale, who is affected);
- `points`: one policy's points, standard premium and verdict on a date;
- `customers`: a customer's score over the policies held, the serving channel, the scoring date;
- `cutover`: each policy's version in force on the day before cutover, and the legacy figure it gives.
"""
