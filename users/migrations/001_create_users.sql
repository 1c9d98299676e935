-- The primary key makes "id taken" the database's decision (POST /users → 409), not a prior read.
CREATE TABLE users (
  id text PRIMARY KEY CHECK (id ~ '^[a-z0-9_]{1,64}$'),
  name text NOT NULL CHECK (btrim(name) <> ''),
  last_active bigint NOT NULL,
  -- keeps GET /users in the order users were created
  position bigint GENERATED ALWAYS AS IDENTITY UNIQUE
);
