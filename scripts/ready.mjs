// @ts-check
// Waiting for a server to answer, in one place for the launcher, the tests and the bench.
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Polls `url` (a service's /readyz, or any page of a reference server) until it answers 2xx.
 * Rejects when `timeoutMs` passes first, or with the signal's reason once `signal` aborts.
 * @param {string} url
 * @param {{ timeoutMs?: number, intervalMs?: number, signal?: AbortSignal }} [options]
 * @returns {Promise<void>}
 */
export async function waitUntilReady(url, { timeoutMs = 30_000, intervalMs = 50, signal } = {}) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    signal?.throwIfAborted()
    const ready = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
      async (response) => {
        await response.body?.cancel()
        return response.ok
      },
      () => false,
    )
    if (ready) return
    if (Date.now() + intervalMs > deadline) throw new Error(`${url} not ready within ${timeoutMs} ms`)
    await sleep(intervalMs, undefined, { signal })
  }
}
