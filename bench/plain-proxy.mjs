// The floor of the gateway's design in this run: Fastify with @fastify/http-proxy as its README
// shows it, nothing else (no logging, metrics, request ids, security headers or rate limit).
import proxy from '@fastify/http-proxy'
import Fastify from 'fastify'

const app = Fastify({ logger: false })
await app.register(proxy, { upstream: String(process.env.MOVIES_URL), prefix: '/movies', rewritePrefix: '/movies' })
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) })
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
