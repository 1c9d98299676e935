// The kit's token checks (issue 12): TokenVerifier (EdDSA only, issuer, audience, lifetime, the
// cache of verified tokens and its expiry) and RemoteKeySet (the users service's JWKS fetched
// once, refetched for an unknown kid at most once per cooldown, shared by concurrent callers).
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto'
import fc from 'fast-check'
import { calculateJwkThumbprint, exportJWK, SignJWT } from 'jose'
import t, { type Test } from 'tap'
import { JWKS_PATH, RemoteKeySet } from '../src/auth/remote-keys.js'
import {
  type KeySource,
  MAX_TOKEN_TTL_SECONDS,
  type PublicJwk,
  TokenVerifier,
  type VerificationKey,
} from '../src/auth/tokens.js'
import { HttpError } from '../src/errors.js'
import type { PeerCaller } from '../src/peer-client.js'

interface TestKey {
  kid: string
  privateKey: KeyObject
  publicKey: KeyObject
  jwk: PublicJwk
}

async function newKey(): Promise<TestKey> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const exported = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(exported)
  return {
    kid,
    privateKey,
    publicKey,
    jwk: { kty: 'OKP', crv: 'Ed25519', x: exported.x as string, kid, alg: 'EdDSA', use: 'sig' },
  }
}

interface Claims {
  sub?: string
  role?: string
  iss?: string
  aud?: string
  iat?: number
  exp?: number
}

const now = () => Math.floor(Date.now() / 1000)

function sign(key: TestKey, changes: Claims = {}, header: { kid?: string } = {}): Promise<string> {
  const claims: Claims = { sub: 'jim_halpert', role: 'customer', iss: 'cinema', aud: 'cinema', iat: now(), ...changes }
  claims.exp ??= (claims.iat ?? now()) + 600
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey)
}

/** Keys by kid, counting the lookups (a lookup per signature check). */
class CountingKeys implements KeySource {
  lookups = 0
  constructor(private readonly keys: Map<string, VerificationKey>) {}
  async keyFor(kid: string) {
    this.lookups += 1
    return this.keys.get(kid)
  }
}

const verifierOf = (keys: KeySource) => new TokenVerifier(keys, { issuer: 'cinema', audience: 'cinema' })

async function refusal(t: Test, promise: Promise<unknown>, message: RegExp | string, what: string) {
  try {
    await promise
    t.fail(`${what}: accepted`)
  } catch (error) {
    t.ok(error instanceof HttpError, `${what}: an HttpError`)
    const refused = error as HttpError
    t.same(
      {
        statusCode: refused.statusCode,
        code: refused.code,
        challenge: refused.headers?.['www-authenticate'],
      },
      { statusCode: 401, code: 'UNAUTHENTICATED', challenge: 'Bearer realm="cinema", error="invalid_token"' },
      what,
    )
    t.match(refused.message, message, `${what}: says why`)
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const RealDate = Date

/**
 * Runs `body` with the clock `offsetMs` ahead: Date.now (the verifier's cache) and new Date()
 * (jose's claim checks) both.
 */
async function withClockAhead<T>(offsetMs: number, body: () => Promise<T>): Promise<T> {
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offsetMs)
      else super(...(args as [number]))
    }
    static override now() {
      return RealDate.now() + offsetMs
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor
  try {
    return await body()
  } finally {
    globalThis.Date = RealDate
  }
}

const outcomeOf = (verifying: Promise<{ username: string }>) =>
  verifying.then(
    (caller) => `accepted as ${caller.username}`,
    (error: HttpError) => `${error.statusCode} ${error.message}`,
  )

t.test('TokenVerifier', async (t) => {
  const key = await newKey()
  const keys = new CountingKeys(new Map([[key.kid, key.publicKey]]))

  t.test('a good token: the caller, from one signature check however often it is shown', async (t) => {
    const verifier = verifierOf(keys)
    const token = await sign(key, { sub: 'pam_beesly', role: 'admin' })
    const before = keys.lookups
    const caller = await verifier.verify(token)
    t.same({ username: caller.username, role: caller.role }, { username: 'pam_beesly', role: 'admin' })
    t.ok(caller.expiresAt > now(), 'with its expiry')
    for (let index = 0; index < 5; index++) t.same(await verifier.verify(token), caller)
    t.equal(keys.lookups - before, 1, 'checked once, then remembered')
    const other = verifierOf(keys)
    await other.verify(token)
    t.equal(keys.lookups - before, 2, 'a cache per verifier')
  })

  t.test('a remembered token expires: refused from the cache, then by a fresh check', async (t) => {
    const verifier = verifierOf(keys)
    const token = await sign(key, { exp: now() + 60 })
    await verifier.verify(token)
    const before = keys.lookups
    await withClockAhead(120_000, async () => {
      await refusal(t, verifier.verify(token), 'the token has expired; sign in again', 'remembered, then expired')
      t.equal(keys.lookups, before, 'told from the cache, without a signature check')
      await refusal(t, verifier.verify(token), 'the token has expired; sign in again', 'checked afresh once forgotten')
      t.equal(keys.lookups, before + 1, 'checked again')
    })
  })

  t.test('just past its exp (within the clock tolerance): the same answer each time', async (t) => {
    const verifier = verifierOf(keys)
    const token = await sign(key, { exp: now() + 60 })
    await verifier.verify(token)
    // Remembered or checked afresh, the same token at the same moment gets the same answer: the
    // cache must not refuse what a fresh check (with its 30 s of clock tolerance) accepts.
    const answers = await withClockAhead(70_000, async () => {
      const seen: string[] = []
      for (let index = 0; index < 4; index++) seen.push(await outcomeOf(verifier.verify(token)))
      return seen
    })
    t.equal(new Set(answers).size, 1, `one answer: ${answers.join(' / ')}`)
  })

  t.test('a token long expired is refused, and not remembered', async (t) => {
    const verifier = verifierOf(keys)
    const token = await sign(key, { iat: now() - 900, exp: now() - 300 })
    const before = keys.lookups
    await refusal(t, verifier.verify(token), 'the token has expired; sign in again', 'expired')
    await refusal(t, verifier.verify(token), 'the token has expired; sign in again', 'expired again')
    t.equal(keys.lookups, before + 2, 'checked each time')
  })

  t.test('refused: expired, wrong issuer or audience, too long a life, missing or bad claims', async (t) => {
    const verifier = verifierOf(keys)
    const cases: [string, Claims, RegExp | string][] = [
      // (Verifiers allow 30 s of clock difference.)
      ['expired', { iat: now() - 600, exp: now() - 120 }, 'the token has expired; sign in again'],
      ['issued by someone else', { iss: 'someone-else' }, 'the token is not valid'],
      ['for another audience', { aud: 'another-app' }, 'the token is not valid'],
      ['issued over an hour ago', { iat: now() - MAX_TOKEN_TTL_SECONDS - 120, exp: now() + 60 }, /expired|not valid/],
      ['no subject', { sub: undefined }, 'the token is not valid'],
      ['an unknown role', { role: 'superuser' }, 'the token is not valid'],
      ['no role', { role: undefined }, 'the token is not valid'],
      ['issued an hour ahead', { iat: now() + 3_600, exp: now() + 4_000 }, 'the token is not valid'],
    ]
    for (const [what, changes, message] of cases) {
      const claims = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined))
      let token = await sign(key, claims)
      if ('sub' in changes || 'role' in changes) {
        // Without the claim at all.
        const payload = {
          sub: 'jim_halpert',
          role: 'customer',
          iss: 'cinema',
          aud: 'cinema',
          iat: now(),
          exp: now() + 600,
        }
        for (const name of Object.keys(changes)) delete payload[name as keyof typeof payload]
        token = await new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', kid: key.kid }).sign(key.privateKey)
      }
      await refusal(t, verifier.verify(token), message, what)
    }
  })

  t.test('refused: HS256 (even keyed with the public key), alg none, no kid, unknown kid, tampered', async (t) => {
    const verifier = verifierOf(keys)
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const claims = { sub: 'jim_halpert', role: 'admin', iss: 'cinema', aud: 'cinema', iat: now(), exp: now() + 600 }
    const hs256 = (secret: string | Buffer) => {
      const input = `${b64({ alg: 'HS256', kid: key.kid })}.${b64(claims)}`
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
    }
    await refusal(t, verifier.verify(hs256(key.jwk.x)), 'the token is not valid', 'HS256 keyed with x')
    await refusal(
      t,
      verifier.verify(hs256(key.publicKey.export({ format: 'pem', type: 'spki' }) as string)),
      'the token is not valid',
      'HS256 keyed with the PEM',
    )
    await refusal(
      t,
      verifier.verify(`${b64({ alg: 'none', kid: key.kid })}.${b64(claims)}.`),
      'the token is not valid',
      'alg none',
    )
    const good = await sign(key)
    const [header, payload, signature] = good.split('.') as [string, string, string]
    const tampered = `${header}.${b64({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'admin' })}.${signature}`
    await refusal(t, verifier.verify(tampered), 'the token is not valid', 'a tampered payload')
    const noKid = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).sign(key.privateKey)
    await refusal(t, verifier.verify(noKid), 'the token names no key', 'no kid')
    const stranger = await newKey()
    await refusal(t, verifier.verify(await sign(stranger)), 'the token is signed by an unknown key', 'unknown kid')
    await refusal(
      t,
      verifier.verify(await sign(stranger, {}, { kid: key.kid })),
      'the token is not valid',
      'another key under the known kid',
    )
    // A refused token is not remembered: it is refused again, by a signature check.
    const before = keys.lookups
    await refusal(t, verifier.verify(tampered), 'the token is not valid', 'refused again')
    t.equal(keys.lookups, before + 1, 'not cached')
  })

  t.test('any string at all: accepted only when it is a good token', async (t) => {
    const verifier = verifierOf(keys)
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.base64String()), async (text) => {
        try {
          await verifier.verify(text)
          return false
        } catch (error) {
          return error instanceof HttpError && error.statusCode === 401
        }
      }),
      { numRuns: 300 },
    )
    t.pass('300 strings refused with a 401')
  })
})

/** The users service's JWKS endpoint as a PeerCaller, counting its fetches. */
class FakeUsers implements PeerCaller {
  readonly name = 'users'
  fetches = 0
  /** Each fetch waits for this before answering (to hold fetches in flight). */
  gate: Promise<void> = Promise.resolve()
  answer: unknown
  constructor(keys: TestKey[]) {
    this.answer = { keys: keys.map((key) => key.jwk) }
  }
  publish(keys: TestKey[]) {
    this.answer = { keys: keys.map((key) => key.jwk) }
  }
  async request(): Promise<never> {
    throw new Error('only getJson is used')
  }
  async getJson<T>(path: string): Promise<T | undefined> {
    if (path !== JWKS_PATH) throw new Error(`unexpected ${path}`)
    this.fetches += 1
    await this.gate
    return structuredClone(this.answer) as T
  }
}

t.test('RemoteKeySet', async (t) => {
  const first = await newKey()
  const second = await newKey()
  const third = await newKey()
  // Short periods, waited for in real time (the set reads the clock itself): the checks "within
  // the cooldown" take a few milliseconds of its second.
  const options = { maxAgeMs: 2_500, refetchCooldownMs: 1_000 }
  const afterCooldown = () => sleep(options.refetchCooldownMs + 50)

  t.test('one fetch for many callers at once, each of whom gets the key', async (t) => {
    const users = new FakeUsers([first])
    const keys = new RemoteKeySet(users, options)
    const concurrently = async (kid: string) => {
      let open = () => {}
      users.gate = new Promise((resolve) => {
        open = resolve
      })
      const asked = Promise.allSettled(Array.from({ length: 10 }, () => keys.keyFor(kid)))
      open()
      return (await asked).map((outcome) =>
        outcome.status === 'rejected'
          ? `rejected: ${(outcome.reason as Error).message}`
          : outcome.value
            ? 'key'
            : 'none',
      )
    }
    // A verifier's first tokens, all at once (a gateway just started).
    t.same(await concurrently(first.kid), Array(10).fill('key'), 'the first fetch is shared by everyone waiting')
    t.equal(users.fetches, 1, 'one fetch for ten concurrent callers')
    await keys.keyFor(first.kid)
    t.equal(users.fetches, 1, 'then served from memory')
    // A rotation: the first tokens signed with the new key, all at once.
    users.publish([first, second])
    await afterCooldown()
    t.same(await concurrently(second.kid), Array(10).fill('key'), 'the refetch is shared by everyone waiting')
    t.equal(users.fetches, 2, 'one refetch for ten concurrent callers')
  })

  t.test('an unknown kid refetches once, then not again within the cooldown', async (t) => {
    const users = new FakeUsers([first])
    const keys = new RemoteKeySet(users, options)
    t.ok(await keys.keyFor(first.kid))
    t.equal(users.fetches, 1)
    // Right after a fetch, an unknown kid is not worth another: the answer would be the same.
    t.equal(await keys.keyFor(second.kid), undefined, 'unknown right after a fetch')
    t.equal(users.fetches, 1, 'no refetch within the cooldown')

    // The users service rotates to a new key; a token signed with it arrives after the cooldown.
    users.publish([first, second])
    await afterCooldown()
    t.ok(await keys.keyFor(second.kid), 'the new key is found')
    t.equal(users.fetches, 2, 'by one refetch')
    t.ok(await keys.keyFor(first.kid), 'the old one is still known')
    // Forged kids cannot make it fetch again and again.
    for (const kid of ['forged-1', 'forged-2', 'forged-3', third.kid]) {
      t.equal(await keys.keyFor(kid), undefined, `${kid}: unknown`)
    }
    t.equal(users.fetches, 2, 'no more fetches within the cooldown')
    users.publish([second, third])
    await afterCooldown()
    t.ok(await keys.keyFor(third.kid), 'after the next cooldown, another refetch finds the third key')
    t.equal(users.fetches, 3)
  })

  t.test('known keys are refreshed after maxAge, in the background', async (t) => {
    const users = new FakeUsers([first])
    const keys = new RemoteKeySet(users, options)
    await keys.keyFor(first.kid)
    users.publish([second])
    await sleep(options.maxAgeMs + 50)
    t.ok(await keys.keyFor(first.kid), 'a stale key still answers at once')
    t.equal(users.fetches, 2, 'and a refresh starts')
    await sleep(50)
    t.equal(await keys.keyFor(first.kid), undefined, 'a key the service no longer publishes is dropped')
    t.ok(await keys.keyFor(second.kid), 'its successor is known')
    t.equal(users.fetches, 2, 'without another fetch')
  })

  t.test('an unusable key set: 502 naming users, nothing cached, asked again after the cooldown', async (t) => {
    const answers = [
      undefined,
      {},
      { keys: 'x' },
      { keys: [{ ...first.jwk, alg: 'HS256' }] },
      { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] },
    ]
    await Promise.all(
      answers.map(async (answer) => {
        const users = new FakeUsers([])
        users.answer = answer
        const keys = new RemoteKeySet(users, options)
        await t.rejects(
          keys.keyFor(first.kid),
          { statusCode: 502, code: 'PEER_BAD_ANSWER', service: 'users' },
          JSON.stringify(answer),
        )
        users.publish([first])
        // Within the cooldown, no fetch: with no key set at all, the token cannot be judged (503).
        await t.rejects(keys.keyFor(first.kid), { statusCode: 503, code: 'PEER_UNAVAILABLE', service: 'users' })
        t.equal(users.fetches, 1, 'not fetched again within the cooldown')
        await afterCooldown()
        t.ok(await keys.keyFor(first.kid), 'a good answer afterwards is used')
        t.equal(users.fetches, 2)
      }),
    )
  })

  t.test('with a TokenVerifier: a rotation is picked up by one refetch', async (t) => {
    const users = new FakeUsers([first])
    const verifier = verifierOf(new RemoteKeySet(users, options))
    t.equal((await verifier.verify(await sign(first))).username, 'jim_halpert')
    users.publish([first, second])
    const signedByNewKey = await sign(second)
    await refusal(t, verifier.verify(signedByNewKey), 'the token is signed by an unknown key', 'within the cooldown')
    await afterCooldown()
    t.equal((await verifier.verify(signedByNewKey)).username, 'jim_halpert', 'after it, accepted')
    t.equal(users.fetches, 2)
  })
})
