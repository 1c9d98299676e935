-- A booking is written before its user is checked (see docs/architecture.md, "Deleting a user while
-- they book"): until the check passes it is unconfirmed. Rows from before are confirmed.
ALTER TABLE bookings ADD COLUMN confirmed boolean NOT NULL DEFAULT true;
