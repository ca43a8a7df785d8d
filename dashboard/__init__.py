"""The operations dashboard: a small web app (role `ops`) over the services' HTTP APIs, their
`/metrics` and the dead-letter topics. It never reads a service's database."""
