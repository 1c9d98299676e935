import { Value } from 'typebox/value'
import { HttpError } from '../errors.js'
import type { PeerCaller } from '../peer-client.js'
import { importPublicJwk, JwkSet, type KeySource, type PublicJwk, type VerificationKey } from './tokens.js'

export const JWKS_PATH = '/.well-known/jwks.json'

export interface RemoteKeySetOptions {
  /** Known keys are fetched again after this long, so retired ones stop being accepted. */
  maxAgeMs: number
  /**
   * A `kid` not in the set fetches it again, at most this often: a rotated key is accepted at once,
   * and forged kids cost the users service one small answer a second per verifier at most.
   */
  refetchCooldownMs: number
}

export const REMOTE_KEY_DEFAULTS: RemoteKeySetOptions = { maxAgeMs: 10 * 60_000, refetchCooldownMs: 1_000 }

/**
 * The users service's public keys, fetched from its `/.well-known/jwks.json` and kept: a token
 * naming a key not seen yet (a rotation) fetches the set once more, then the answer is final.
 */
export class RemoteKeySet implements KeySource {
  #keys = new Map<string, VerificationKey>()
  #fetchedAt = Number.NEGATIVE_INFINITY
  /** When the last fetch began, whether it worked or not. */
  #triedAt = Number.NEGATIVE_INFINITY
  #fetching: Promise<void> | undefined

  constructor(
    private readonly users: PeerCaller,
    private readonly options: RemoteKeySetOptions = REMOTE_KEY_DEFAULTS,
  ) {}

  async keyFor(kid: string): Promise<VerificationKey | undefined> {
    const key = this.#keys.get(kid)
    if (key) {
      // Stale but known: answer now, refresh behind it.
      if (Date.now() - this.#fetchedAt >= this.options.maxAgeMs) this.#refresh().catch(() => {})
      return key
    }
    // A fetch under way may bring it: wait for that one rather than judge without it.
    if (this.#fetching) {
      await this.#fetching.catch(() => {})
      const fetched = this.#keys.get(kid)
      if (fetched) return fetched
    }
    // Within the cooldown of the last try (answered or failed) an unknown kid is just unknown:
    // tokens with made-up kids cannot make a fetch each, even while the users service is down.
    if (Date.now() - this.#triedAt < this.options.refetchCooldownMs) {
      if (this.#fetchedAt === Number.NEGATIVE_INFINITY) throw this.#unavailable()
      return undefined
    }
    await this.#refresh()
    return this.#keys.get(kid)
  }

  /** One fetch at a time; callers arriving meanwhile share it. */
  #refresh(): Promise<void> {
    this.#fetching ??= this.#fetch().finally(() => {
      this.#fetching = undefined
    })
    return this.#fetching
  }

  /** No key set yet and none to be had just now: the token cannot be judged, not refused. */
  #unavailable(): HttpError {
    return new HttpError(503, `${this.users.name} service is unavailable (its signing keys could not be fetched)`, {
      code: 'PEER_UNAVAILABLE',
      service: this.users.name,
      expose: true,
    })
  }

  async #fetch(): Promise<void> {
    this.#triedAt = Date.now()
    const set = await this.users.getJson<unknown>(JWKS_PATH)
    if (!Value.Check(JwkSet, set)) {
      throw new HttpError(502, `${this.users.name} service sent no usable signing keys`, {
        code: 'PEER_BAD_ANSWER',
        service: this.users.name,
        expose: true,
      })
    }
    const keys = new Map<string, VerificationKey>()
    for (const jwk of (set as { keys: PublicJwk[] }).keys) keys.set(jwk.kid, await importPublicJwk(jwk))
    this.#keys = keys
    this.#fetchedAt = Date.now()
  }
}
