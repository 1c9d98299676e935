-- Tokens name their user by username, so a name deleted while a token for it may still be valid
-- must not pass to someone else: sign-up refuses it for the longest token lifetime after deletion.
CREATE TABLE deleted_usernames (
  username text PRIMARY KEY,
  deleted_at timestamptz NOT NULL DEFAULT now()
);
