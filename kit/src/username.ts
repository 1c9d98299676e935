// No imports, so that the web app can bundle it: it checks a new username before asking the users service.

/** The usernames the users service accepts for a new user: lowercase letters, digits and _, 1–64 of them. */
export const USERNAME_PATTERN = '^[a-z0-9_]{1,64}$'
