// @ts-check
// Plain JavaScript, so that scripts/prepare-start.mjs (run without a build) reads it too.

/**
 * Whether process `pid` is running (on this machine).
 * @param {number} pid
 */
export function isAlive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return /** @type {NodeJS.ErrnoException} */ (error).code === 'EPERM'
  }
}
