-- The limit on sign-ins is over any 15 minutes, not over windows starting at a first attempt (with
-- those, ten failures at the end of one window and ten at the start of the next passed within
-- seconds): each username keeps the times of its last attempts instead of a count. Counts of the
-- old form are dropped; they last 15 minutes at most anyway.
DROP TABLE sign_in_attempts;
CREATE TABLE sign_in_attempts (
  username text PRIMARY KEY,
  -- oldest first, at most one more than the limit
  attempted_at timestamptz[] NOT NULL
);
