"""`vip reconcile`: the platform's policies against a policy admin snapshot, streaming."""
