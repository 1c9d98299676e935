// Issue 18, items 2 and 4. A path that some hop reads as another one (`/auth/./token`, which
// WHATWG URL resolves to `/auth/token` when a proxy builds the next request) is refused with 400
// by every Node entry point, before the password budget judges it; through the UI's nginx, which
// resolves such paths itself, the budget holds on what it forwards. Behind the UI server (`npm
// start`'s settings) each visitor has a budget of its own, none exempt as loopback is.
// Clients connect from distinct loopback addresses (every 127.x.y.z is loopback on Linux).
import { request as httpRequest } from 'node:http'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { findNginx, type RunningNginx, startNginx } from '../../ui/test/helpers/nginx.js'
import { DEMO_PASSWORD } from '../helpers/auth.js'
import { type RunningSystem, startSystem } from '../helpers/system.js'

t.setTimeout(240_000)

const PASSWORD_RATE_LIMIT_MAX = 5
const CREDENTIALS = { username: 'dwight_schrute', password: DEMO_PASSWORD }
const WEB_APP = fileURLToPath(new URL('../../ui/dist/public', import.meta.url))

// Every spelling a hop reads as another path: raw and percent-encoded dot segments in any case
// and mix, empty segments, backslashes, encoded slashes, a fragment, and an absolute URL
// (HOST is replaced by the entry point's address).
const NON_CANONICAL = [
  '/auth/./token',
  '/auth/%2e/token',
  '/auth/%2E/token',
  '/./auth/token',
  '/auth/x/../token',
  '/auth/x/%2e%2e/token',
  '/auth/x/.%2e/token',
  '/auth/x/%2E./token',
  '/auth/x/%2e%2E/token',
  '/auth/token/.',
  '/auth/token/x/..',
  '/auth//token',
  '//auth/token',
  '/auth\\token',
  '/auth/x\\..\\token',
  '/auth%5ctoken',
  '/auth/x%5C..%5Ctoken',
  '/auth%2ftoken',
  '/auth/x%2f..%2ftoken',
  '/auth/token#x',
  '/auth/x#/../token',
  'http://HOST/auth/./token',
]
// Spelt oddly but routed alike by every hop (WHATWG URL keeps them; each hop decodes once):
// allowed, and counted when they reach sign-in.
const ROUTED_ALIKE = [
  '/auth/%74oken',
  '/auth/token?x=%2e',
  '/auth/%252e/token',
  '/auth/token;x',
  '/auth/.;/token',
  '/auth/token%00',
]

interface Answer {
  status: number
  body: { code?: string; message?: string; access_token?: string }
}

/** A sign-in POSTed to `path` exactly as written (no client-side resolution), from `localAddress`. */
function signIn(baseUrl: string, path: string, localAddress: string, headers: Record<string, string> = {}) {
  const { hostname, port, host } = new URL(baseUrl)
  const payload = JSON.stringify(CREDENTIALS)
  return new Promise<Answer>((resolve, reject) => {
    const request = httpRequest(
      {
        host: hostname,
        port,
        path: path.replace('HOST', host),
        method: 'POST',
        localAddress,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
      },
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (text += chunk))
        response.on('end', () => {
          let body: Answer['body'] = {}
          try {
            body = JSON.parse(text)
          } catch {
            // nginx's own refusals are HTML.
          }
          resolve({ status: response.statusCode ?? 0, body })
        })
      },
    )
    request.on('error', reject)
    request.end(payload)
  })
}

const hashed = (answers: Answer[]) => answers.filter((answer) => answer.status === 200 && answer.body.access_token)

/**
 * One client sends every spelling, then the canonical path until its budget is surely spent: what
 * reached users and hashed a password (a token came back) is PASSWORD_RATE_LIMIT_MAX, no more.
 */
async function budgetHolds(t: Test, baseUrl: string, prefix: string, client: string) {
  const answers: Answer[] = []
  for (const path of [...NON_CANONICAL, ...ROUTED_ALIKE]) {
    const sent = path.replace(/^(http:\/\/HOST)?/, `$1${prefix}`)
    const answer = await signIn(baseUrl, sent, client)
    answers.push(answer)
    t.comment(`${sent} → ${answer.status} ${answer.body.code ?? ''}`)
  }
  for (let index = 0; index <= PASSWORD_RATE_LIMIT_MAX; index++)
    answers.push(await signIn(baseUrl, `${prefix}/auth/token`, client))
  t.equal(
    hashed(answers).length,
    PASSWORD_RATE_LIMIT_MAX,
    `${answers.length} sign-ins, ${PASSWORD_RATE_LIMIT_MAX} hashed`,
  )
  t.match(answers.at(-1), { status: 429, body: { code: 'RATE_LIMITED' } }, 'the budget is spent')
  return answers
}

/** Each non-canonical spelling is a 400 that says what is wrong, from the entry point itself. */
function refusedAll(t: Test, answers: Answer[], prefix: string) {
  NON_CANONICAL.forEach((path, index) => {
    t.match(
      answers[index],
      { status: 400, body: { code: 'BAD_REQUEST', message: /path|request target/ } },
      `${prefix}${path} is refused`,
    )
  })
}

t.test('every entry point', async (t) => {
  let system: RunningSystem | undefined
  let nginx: RunningNginx | undefined
  t.teardown(async () => {
    await nginx?.close()
    await system?.close()
  })
  system = await startSystem({
    only: ['users', 'gateway', 'ui'],
    env: { PASSWORD_RATE_LIMIT_MAX: String(PASSWORD_RATE_LIMIT_MAX), RATE_LIMIT_ALLOW: '127.0.0.1' },
  })
  const gateway = system.url('gateway')
  const ui = system.url('ui')

  await t.test('the gateway refuses every non-canonical spelling; the budget holds', async (t) => {
    refusedAll(t, await budgetHolds(t, gateway, '', '127.0.0.11'), '')
  })

  await t.test("the UI server's /api/ refuses them too; the budget holds per visitor", async (t) => {
    refusedAll(t, await budgetHolds(t, ui, '/api', '127.0.0.12'), '/api')
  })

  await t.test('the users service refuses them straight, and routes canonical paths', async (t) => {
    const answers = []
    for (const path of NON_CANONICAL) answers.push(await signIn(system.url('users'), path, '127.0.0.13'))
    refusedAll(t, answers, '')
    t.equal((await signIn(system.url('users'), '/auth/token', '127.0.0.13')).status, 200)
    t.equal((await signIn(system.url('users'), '/auth/%74oken', '127.0.0.13')).status, 200)
  })

  // nginx resolves such paths itself before it forwards them (what it forwards is then canonical).
  const installed = findNginx()
  const skip = 'missing' in installed ? installed.missing : false
  await t.test("the UI's nginx: what it forwards is judged, and the budget holds", { skip }, async (t) => {
    nginx = await startNginx({ gatewayUrl: gateway, root: WEB_APP })
    await budgetHolds(t, nginx.url, '/api', '127.0.0.14')
  })

  await t.test('25 sign-ins from one visitor through /api/: the budget, then 429; another visitor apart', async (t) => {
    const statuses = []
    for (let index = 0; index < 25; index++) {
      // Half claim to be loopback, which is allow-listed: the UI server says who is really asking.
      const claim: Record<string, string> = index % 2 ? { 'x-forwarded-for': '127.0.0.1' } : {}
      statuses.push((await signIn(ui, '/api/auth/token', '127.0.0.2', claim)).status)
    }
    t.same(statuses.slice(0, PASSWORD_RATE_LIMIT_MAX), Array(PASSWORD_RATE_LIMIT_MAX).fill(200), 'the budget')
    t.same(statuses.slice(PASSWORD_RATE_LIMIT_MAX), Array(25 - PASSWORD_RATE_LIMIT_MAX).fill(429), 'then 429s')
    t.equal((await signIn(ui, '/api/auth/token', '127.0.0.3')).status, 200, 'another visitor has a budget of its own')
  })
})
