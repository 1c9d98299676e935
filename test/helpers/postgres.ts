// A throwaway PostgreSQL server for tests: Debian's postgresql binaries, a temporary data
// directory and port, stopped (and deleted) when the test ends.
import { execFileSync, spawnSync } from 'node:child_process'
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.js'

export interface TestPostgres {
  port: number
  /** A fresh database on this server; returns its URL. */
  createDatabase(name: string): string
  /** Stops the server (as a crash would with 'immediate'); `start` brings it back on the same data. */
  stop(mode?: 'fast' | 'immediate'): void
  start(): void
  close(): void
}

function binDir(): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : []
  const found = versions.map((version) => join(root, version, 'bin')).find((dir) => existsSync(join(dir, 'initdb')))
  if (!found) throw new Error('PostgreSQL server binaries not found: apt-get install -y postgresql')
  return found
}

// initdb and postgres refuse to run as root; CI runs as root, so they run as the postgres user.
const asServerUser = process.getuid?.() === 0
function run(command: string, args: string[]): void {
  const [file, argv] = asServerUser ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]
  const result = spawnSync(file, argv, { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr || result.stdout}`)
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = binDir()
  const dir = mkdtempSync(join(tmpdir(), 'cinema-pg-'))
  const data = join(dir, 'data')
  if (asServerUser) {
    chmodSync(dir, 0o755)
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }))
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }))
    chownSync(dir, uid, gid)
  }
  const port = await freePort()
  run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8'])
  const start = () =>
    run(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-w',
      '-l',
      join(dir, 'server.log'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on`,
      'start',
    ])
  const stop = (mode: 'fast' | 'immediate' = 'fast') => run(join(bin, 'pg_ctl'), ['-D', data, '-w', '-m', mode, 'stop'])
  start()
  return {
    port,
    createDatabase(name) {
      run(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', name])
      return `postgres://postgres@127.0.0.1:${port}/${name}`
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
