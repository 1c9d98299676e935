// Races of PUT /bookings/{u}/… against DELETE /users/{u} (issue 18, item 6; docs/architecture.md,
// "Deleting a user while they book"), as the user themselves or an administrator, sent at once or
// one a few milliseconds ahead of the other, every request to a random one of the given replicas;
// then every booking's user must exist, no race may have both succeeded, and no acknowledged
// booking of a user who stayed may be gone. For test/system/orphan-bookings.test.ts and Compose.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import { bearer, DEMO_ADMIN, signIn } from './auth.js'

export const RACES = 200
// Races under way at once (each of a different user).
const PARALLEL = 8
const PASSWORD = 'orphan-race-password'
// Every movie that plays on each date of data/showtimes.json: one booking per race, none repeated.
const SCHEDULE: [string, string][] = [
  ['20151130', '720d006c-3a57-4b6a-b18f-9b713b073f3c'],
  ['20151201', '267eedb8-0f5d-42d5-8f43-72426b9fb3e6'],
  ['20151205', 'a8034f44-aee4-44cf-b32c-74cf452aaaae'],
]
const ORDERS = ['together', 'booking first', 'deletion first'] as const

export interface Endpoints {
  users: string[]
  bookings: string[]
}

interface Tally {
  bothSucceeded: number
  /** Bookings answered 2xx that were gone right after the race. */
  lost: number
  outcomes: Map<string, number>
}

// 503 and 504 are "try again" (the race itself, a peer slow or down on a busy machine); anything else is a bug.
const EXPECTED = { PUT: new Set([200, 201, 404, 503, 504]), DELETE: new Set([204, 404, 409, 503, 504]) }

const pick = (urls: string[]) => urls[Math.floor(Math.random() * urls.length)] as string

async function send(url: string, method: string, token: string, body?: unknown): Promise<number> {
  const response = await fetch(url, {
    method,
    headers: { ...bearer(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  await response.arrayBuffer()
  return response.status
}

async function signUp(endpoints: Endpoints, username: string): Promise<void> {
  const response = await fetch(`${pick(endpoints.users)}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: username, name: username, password: PASSWORD }),
  })
  if (response.status !== 201) throw new Error(`sign-up of ${username}: ${response.status} ${await response.text()}`)
}

/**
 * One race: the booking and the deletion, in an order that varies, the second after a few ms. A
 * user who survives (deletion refused) is used again in a later race, their booking cancelled first.
 * Whether the user survived.
 */
async function race(
  endpoints: Endpoints,
  tally: Tally,
  actor: { username: string; token: string },
  adminToken: string,
  race: number,
): Promise<boolean> {
  const [date, movieId] = SCHEDULE[race % SCHEDULE.length] as [string, string]
  const { username } = actor
  const order = ORDERS[race % ORDERS.length] as (typeof ORDERS)[number]
  const gapMs = order === 'together' ? 0 : Math.random() * 8
  const booking = `${pick(endpoints.bookings)}/bookings/${username}/${date}/${movieId}`
  const book = () => send(booking, 'PUT', actor.token)
  // Deleting one's own account takes the current password (an admin's deleting another ignores it).
  const remove = () =>
    send(`${pick(endpoints.users)}/users/${username}`, 'DELETE', actor.token, { current_password: PASSWORD })
  const [booked, deleted] =
    order === 'deletion first'
      ? await Promise.all([sleep(gapMs).then(book), remove()])
      : await Promise.all([book(), sleep(gapMs).then(remove)])
  const key = `PUT ${booked} / DELETE ${deleted}`
  tally.outcomes.set(key, (tally.outcomes.get(key) ?? 0) + 1)
  if (booked < 300 && deleted === 204) tally.bothSucceeded += 1
  const survived = deleted !== 204
  if (booked < 300 && survived) {
    const own = await fetch(`${pick(endpoints.bookings)}/bookings/${username}`, { headers: bearer(adminToken) })
    const dates = (own.status === 200 ? await own.json() : {}) as Record<string, string[]>
    if (!dates[date]?.includes(movieId)) tally.lost += 1
    // Cancelled for this user's next race.
    await send(booking, 'DELETE', adminToken)
  }
  return survived
}

/** Usernames that have bookings but no user: the orphans. */
async function orphans(endpoints: Endpoints, adminToken: string): Promise<string[]> {
  const read = async (url: string) => {
    const response = await fetch(url, { headers: bearer(adminToken) })
    if (response.status !== 200) throw new Error(`${url}: ${response.status}`)
    return (await response.json()) as Record<string, unknown>
  }
  const [users, bookings] = await Promise.all([
    read(`${endpoints.users[0]}/users`),
    read(`${endpoints.bookings[0]}/bookings`),
  ])
  return Object.keys(bookings).filter((username) => !Object.hasOwn(users, username))
}

/**
 * RACES races, PARALLEL at a time, about half as the user and half as an administrator, through
 * these base URLs (a service's replicas, or a gateway for both).
 */
export async function runRaces(t: Test, endpoints: Endpoints, label: string): Promise<void> {
  const adminToken = await signIn(endpoints.users[0] as string, DEMO_ADMIN)
  const tally: Tally = { bothSucceeded: 0, lost: 0, outcomes: new Map() }
  let next = 0
  let made = 0
  const worker = async (lane: number) => {
    let actor: { username: string; token: string } | undefined
    let asAdmin = lane % 2 === 1
    for (let i = next++; i < RACES; i = next++) {
      if (!actor) {
        const username = `orphan_${label.replace(/\W/g, '').toLowerCase()}_${made++}`
        await signUp(endpoints, username)
        actor = { username, token: asAdmin ? adminToken : await signIn(pick(endpoints.users), username, PASSWORD) }
      }
      if (!(await race(endpoints, tally, actor, adminToken, i))) {
        actor = undefined
        asAdmin = !asAdmin
      }
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, (_, lane) => worker(lane)))

  const found = await orphans(endpoints, adminToken)
  t.comment(
    `${label}: ${RACES} races, ${made} users, both succeeded ${tally.bothSucceeded}, orphans ${found.length}, ` +
      `acknowledged and lost ${tally.lost}; ${[...tally.outcomes].map(([key, count]) => `${key}: ${count}`).join(', ')}`,
  )
  t.equal(tally.bothSucceeded, 0, `${label}: never both a booking and the deletion of its user`)
  t.same(found, [], `${label}: no booking without its user`)
  t.equal(tally.lost, 0, `${label}: every acknowledged booking of a user who stayed is there`)
  const unexpected = [...tally.outcomes.keys()].filter((key) => {
    const [, put, del] = /PUT (\d+) \/ DELETE (\d+)/.exec(key) ?? []
    return !EXPECTED.PUT.has(Number(put)) || !EXPECTED.DELETE.has(Number(del))
  })
  t.same(unexpected, [], `${label}: only the expected answers`)
}
