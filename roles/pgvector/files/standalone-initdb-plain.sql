-- statewave.kubernetes, pgvector role, standalone mode (dev/staging only), without the vector
-- extension (pgvector_vector_extension: false, e.g. PyStator's database). The postgres image runs
-- this once, as the superuser, on an empty data directory. The role name, database and password
-- come from the container's environment (the credentials Secret), never from this file. The app
-- role owns its database, so it may create the schemas its migrations make (PyStator's
-- `pystator db upgrade` runs CREATE SCHEMA IF NOT EXISTS "pystator").
\set ON_ERROR_STOP on
\getenv app_user STATEWAVE_DB_USER
\getenv app_password STATEWAVE_DB_PASSWORD
\getenv app_db STATEWAVE_DB_NAME
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password';
CREATE DATABASE :"app_db" OWNER :"app_user";
