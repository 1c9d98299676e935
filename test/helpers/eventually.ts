import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Reads `read()` again (every 100 ms, up to `timeout`) until `accept` holds of what it read, and
 * returns the last value read, accepted or not: the test asserts on that, so a failure still shows
 * what there was.
 */
export async function eventually<T>(
  read: () => T | Promise<T>,
  accept: (value: T) => boolean,
  timeout = 5_000,
): Promise<T> {
  const deadline = performance.now() + timeout
  for (;;) {
    const value = await read()
    if (accept(value) || performance.now() >= deadline) return value
    await sleep(100)
  }
}
