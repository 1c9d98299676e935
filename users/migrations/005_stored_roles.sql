-- Issue 18: the administrator role is stored with the account, granted by the bootstrap when it
-- creates the account or by an administrator; a name in ADMIN_USERNAMES alone grants nothing
-- (anyone could have signed up under it first). Existing accounts start as customers: at start the
-- users service refuses a listed name whose account is not an admin (README, "Identity").
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'admin'));
