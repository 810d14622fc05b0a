-- Custom migration: the server-wide flarewatch_reader role loses its reach into this database.
-- A role belongs to the server, so the one of 0004 read every flarewatch database on it (every
-- organisation's). Reviewers now get flarewatch_reader_<database>, created and granted at each
-- start by src/db/access.ts (a migration cloned into another database could not know its name).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'flarewatch_reader') THEN
    REVOKE SELECT ON ALL TABLES IN SCHEMA public FROM flarewatch_reader;
    REVOKE USAGE ON SCHEMA public FROM flarewatch_reader;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM flarewatch_reader;
  END IF;
END
$$;
