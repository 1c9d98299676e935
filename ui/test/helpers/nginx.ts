import { spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { spawnGroup, stopGroup } from '../../../test/helpers/processes.js'
import { findProgram } from '../../../test/helpers/programs.js'

export const TEMPLATE = fileURLToPath(new URL('../../nginx/default.conf.template', import.meta.url))

/** What the official image's entrypoint does: envsubst with only the variables that are defined. */
export function renderTemplate(template: string, env: Record<string, string>): string {
  return template.replace(/\$\{(\w+)\}|\$(\w+)/g, (text, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? ''
    return Object.hasOwn(env, name) ? (env[name] ?? '') : text
  })
}

/** Swaps one line the container needs for the one a test needs, failing if the template changed shape. */
function replaceLine(config: string, line: string, replacement: string): string {
  if (!config.includes(line)) throw new Error(`the nginx template no longer has "${line}"`)
  return config.replace(line, replacement)
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

export interface RunningNginx {
  url: string
  /** nginx's own error log, for failure messages. */
  output(): string
  close(): Promise<void>
}

interface InstalledNginx {
  binary: string
  /** The mime.types beside its own configuration, which the image's http block includes too. */
  mimeTypes: string
}

/** nginx on PATH and its mime.types, or why the nginx tests cannot run here. */
export function findNginx(): InstalledNginx | { missing: string } {
  const binary = findProgram('nginx')
  if (binary) {
    const version = spawnSync(binary, ['-V'], { encoding: 'utf8' }).stderr ?? ''
    const confPath = /--conf-path=(\S+)/.exec(version)?.[1] ?? '/etc/nginx/nginx.conf'
    const mimeTypes = join(dirname(confPath), 'mime.types')
    if (existsSync(mimeTypes)) return { binary, mimeTypes }
  }
  return { missing: 'nginx is not installed: apt-get install -y nginx (or brew install nginx) to test it' }
}

/** Starts tried at most, each on a new port: another process may take a picked port before nginx binds it. */
const START_ATTEMPTS = 3

/**
 * Runs the machine's nginx with the project's template, rendered as the image would render it, in
 * a temporary prefix: the http block and mime types the image has, the site on a free loopback port.
 */
export async function startNginx({ gatewayUrl, root }: { gatewayUrl: string; root: string }): Promise<RunningNginx> {
  const nginx = findNginx()
  if ('missing' in nginx) throw new Error(nginx.missing)
  const prefix = await mkdtemp(join(tmpdir(), 'cinema-nginx-'))
  try {
    const rendered = renderTemplate(await readFile(TEMPLATE, 'utf8'), {
      GATEWAY_URL: gatewayUrl,
      GATEWAY_RESOLVER: '127.0.0.1',
    })
    await writeFile(
      join(prefix, 'nginx.conf'),
      [
        // Run as root (tests and CI are), workers would otherwise be `nobody`, unable to read the tmp prefix.
        process.getuid?.() === 0 ? 'user root;' : '',
        'worker_processes 1;',
        `pid ${join(prefix, 'nginx.pid')};`,
        'error_log stderr warn;',
        // The official image's (its /etc/nginx/nginx.conf), which the connection tests rely on.
        'events { worker_connections 1024; }',
        'http {',
        `  include ${nginx.mimeTypes};`,
        '  default_type application/octet-stream;',
        '  access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
          (kind) => `  ${kind}_temp_path ${join(prefix, kind)};`,
        ),
        `  include ${join(prefix, 'default.conf')};`,
        '}',
      ].join('\n'),
    )

    for (let attempt = 1; ; attempt += 1) {
      // The port is free when picked, but another process may take it before nginx binds it.
      const port = await freePort()
      let site = replaceLine(rendered, 'listen 8080;', `listen 127.0.0.1:${port};`)
      site = replaceLine(site, 'root /usr/share/nginx/html;', `root ${root};`)
      await writeFile(join(prefix, 'default.conf'), site)
      const started = await launch(nginx.binary, prefix, port)
      if ('failed' in started) {
        if (attempt < START_ATTEMPTS && /Address already in use/.test(started.failed)) continue
        throw new Error(started.failed)
      }
      return {
        url: started.url,
        output: started.output,
        close: async () => {
          await started.stop()
          await rm(prefix, { recursive: true, force: true })
        },
      }
    }
  } catch (error) {
    await rm(prefix, { recursive: true, force: true })
    throw error
  }
}

/** nginx started on the configuration in `prefix`, once it answers on `port`; or why it did not. */
async function launch(
  binary: string,
  prefix: string,
  port: number,
): Promise<{ url: string; output(): string; stop(): Promise<void> } | { failed: string }> {
  let output = ''
  // nginx's workers are in its process group, killed with it.
  const child = spawnGroup(
    binary,
    ['-e', 'stderr', '-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => (output += chunk))
  const closed = new Promise((resolve) => child.once('close', resolve)) // its output read to the end
  const stop = async () => {
    await stopGroup(child, 'SIGTERM')
  }
  const url = `http://127.0.0.1:${port}`

  // No deadline: nginx either answers or exits (a port taken meanwhile, a bad configuration).
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await closed
      return { failed: `nginx exited at start:\n${output}` }
    }
    // nginx, not whatever else may have taken the port meanwhile (server_tokens off still says nginx).
    const up = await fetch(`${url}/`).then(
      async (response) => {
        await response.body?.cancel()
        return response.headers.get('server') === 'nginx'
      },
      () => false,
    )
    if (up) break
    await sleep(50)
  }
  return { url, output: () => output, stop }
}
