// tap's timeout of a test file (package.json's "timeout", or the file's own t.setTimeout) bounds
// what the test does. How long the machine takes to start services is not the test's doing, and a
// busy machine takes many times longer (PGlite's first start is seconds of CPU): the time spent
// waiting for a start is given back to the file, so the bound stays the test's own work. A start
// may take one whole file timeout by itself.

// Under tap's runner only (it sets TAP=1): the bench starts the system too, and importing tap
// there would print a TAP report of its own.
const tap = process.env.TAP === '1' ? (await import('tap')).default : undefined

let given = 0
let waiting = 0
let waitingSince = 0
let fileTimeoutMs: number | undefined

/** What is left of the file's timeout (tap's timer started with the process), the time given back included. */
const remaining = (timeoutMs: number) => Math.max(1, timeoutMs + given - performance.now())

/** `work`'s result; the time it took (overlapping waits once) is added to the file's timeout. */
export async function notCountedAgainstTimeout<T>(work: Promise<T>): Promise<T> {
  fileTimeoutMs ??= tap?.options.timeout
  if (waiting++ === 0) {
    waitingSince = performance.now()
    if (fileTimeoutMs) tap?.setTimeout(remaining(fileTimeoutMs) + fileTimeoutMs)
  }
  try {
    return await work
  } finally {
    if (--waiting === 0) {
      given += performance.now() - waitingSince
      if (fileTimeoutMs) tap?.setTimeout(remaining(fileTimeoutMs))
    }
  }
}
