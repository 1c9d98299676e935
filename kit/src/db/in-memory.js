// @ts-check
// Plain JavaScript, so that the launcher's scripts (.mjs, run without a build) read it too.

/** DATA_DIR's value for an embedded (PGlite) database kept in memory only: nothing is written to disk. */
export const IN_MEMORY = 'memory://'
