-- One row per (user, date, movie): the unique constraint is what makes PUT idempotent under concurrency.
CREATE TABLE bookings (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username text NOT NULL CHECK (username <> ''),
  show_date text NOT NULL CHECK (show_date ~ '^[0-9]{8}$'),
  movie_id text NOT NULL CHECK (movie_id <> ''),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT bookings_once UNIQUE (username, show_date, movie_id)
);
