-- One database per service: each service owns its schema and runs its own migrations at start.
-- Runs once, when the postgres container initialises an empty data volume.
CREATE DATABASE vip_scoring;
CREATE DATABASE vip_tiering;
CREATE DATABASE vip_assignment;
CREATE DATABASE vip_entitlements;
