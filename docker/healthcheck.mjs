// Container healthcheck of a Cinema service: healthy when its own GET /readyz answers 2xx within
// 2 s. /readyz covers the service's own database only (never its peers) and turns 503 once a
// graceful shutdown has begun. Only Node.js is needed, which every service image has. What it
// prints shows in `docker inspect --format '{{json .State.Health}}' <container>`.
const fail = (why) => {
  process.stderr.write(`healthcheck: ${why}\n`)
  process.exit(1)
}
const port = process.env.PORT
if (!port) fail('PORT is not set')
try {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) })
  if (!response.ok) fail(`/readyz answered ${response.status}: ${await response.text()}`)
  process.exit(0)
} catch (error) {
  fail(`/readyz did not answer: ${error instanceof Error ? error.message : error}`)
}
