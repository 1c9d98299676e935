// The users service started again and again on one data directory, as an operator restarts it
// with other settings (the stored-role tests).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import type { Test } from 'tap'
import { build, deadUrl } from '../../../test/helpers/servers.js'
import { usersService } from '../../src/app.js'

export const BOOTSTRAP_PASSWORD = 'the operator bootstrap secret'
export const SQUATTER_PASSWORD = 'squatter own password'
/** What .env.example suggests for production. */
export const PRODUCTION = {
  DEMO_CREDENTIALS: 'false',
  ADMIN_USERNAMES: 'admin',
  ADMIN_BOOTSTRAP_PASSWORD: BOOTSTRAP_PASSWORD,
}
/** Nothing in these tests books: bookings is down. */
export const BOOKINGS_URL = await deadUrl()

/** A data directory of the test's own, removed when it ends. */
export function dataDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'cinema-roles-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The users service on `dir`; closed before the next one opens the same directory. */
export const start = (t: Test, dir: string, env: Record<string, string>) =>
  build(t, usersService, { BOOKINGS_URL, DATA_DIR: dir, ...env })

export const roleIn = (token: string) => decodeJwt(token).role
