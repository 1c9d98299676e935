-- A deletion marks the user before it asks the bookings service whether they have bookings, and
-- deletes only while its own mark stands (see docs/architecture.md, "Deleting a user while they
-- book"). A marked user reads as absent; a mark left by a crash lapses after a minute.
ALTER TABLE users ADD COLUMN deleting_since timestamptz;
ALTER TABLE users ADD COLUMN deletion_id uuid;
