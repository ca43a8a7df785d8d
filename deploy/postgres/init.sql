-- One database per service, each owned by its own login role: each service owns its schema, runs
-- its own migrations at start and can neither read another service's database nor administer the
-- server (the roles are not superusers, cannot create roles or databases).
-- Runs once, when the postgres container initialises an empty data volume (psql >= 15 for \getenv).
-- The passwords come from the container's environment (docker-compose.yml passes them, required).
\set ON_ERROR_STOP on

\getenv scoring_password VIP_SCORING_DB_PASSWORD
\getenv tiering_password VIP_TIERING_DB_PASSWORD
\getenv assignment_password VIP_ASSIGNMENT_DB_PASSWORD
\getenv entitlements_password VIP_ENTITLEMENTS_DB_PASSWORD

-- Nobody but a database's owner connects to it (PUBLIC may connect to any database by default).
REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC;

CREATE ROLE vip_scoring LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'scoring_password';
CREATE DATABASE vip_scoring OWNER vip_scoring;
REVOKE ALL ON DATABASE vip_scoring FROM PUBLIC;

CREATE ROLE vip_tiering LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'tiering_password';
CREATE DATABASE vip_tiering OWNER vip_tiering;
REVOKE ALL ON DATABASE vip_tiering FROM PUBLIC;

CREATE ROLE vip_assignment LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'assignment_password';
CREATE DATABASE vip_assignment OWNER vip_assignment;
REVOKE ALL ON DATABASE vip_assignment FROM PUBLIC;

CREATE ROLE vip_entitlements LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'entitlements_password';
CREATE DATABASE vip_entitlements OWNER vip_entitlements;
REVOKE ALL ON DATABASE vip_entitlements FROM PUBLIC;
