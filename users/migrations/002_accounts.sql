-- Sign-in (issue 12). A NULL password_hash is a user from before passwords existed: they can sign
-- in only in demo mode, with the demo password, until they or an admin set one.
ALTER TABLE users ADD COLUMN password_hash text;

-- Sign-in attempts per username, counted before each password check so that parallel guesses
-- cannot slip past the limit; every replica sees the same count. A success deletes the row.
CREATE TABLE sign_in_attempts (
  username text PRIMARY KEY,
  attempts integer NOT NULL,
  window_started_at timestamptz NOT NULL
);

-- Token signing keys (Ed25519), made by the first replica that needs one. A retired key stays
-- published until the last token it signed has expired.
CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  private_key text NOT NULL,
  public_jwk text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  retired_at timestamptz
);
