// Container healthcheck of a Cinema service: healthy when its own GET /readyz answers 2xx within
// 2 s. /readyz covers the service's own database only (never its peers) and turns 503 once a
// graceful shutdown has begun. Only Node.js is needed, which every service image has.
const port = process.env.PORT
if (!port) {
  console.error('healthcheck: PORT is not set')
  process.exit(1)
}
try {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) })
  if (!response.ok) console.error(`healthcheck: /readyz answered ${response.status}: ${await response.text()}`)
  process.exit(response.ok ? 0 : 1)
} catch (error) {
  console.error(`healthcheck: /readyz did not answer: ${error instanceof Error ? error.message : error}`)
  process.exit(1)
}
