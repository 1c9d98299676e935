// Secrets never reach a log line: headers that carry credentials, and password fields should a
// line ever carry a body.
import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import { loggerOptions } from '../src/logging.js'

t.test('credentials are redacted wherever the kit’s loggers would print them', async (t) => {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    },
  })
  const log = pino(loggerOptions('test', 'info', false), sink).child({ reqId: 'r-1' })
  log.info({ req: { headers: { authorization: 'Bearer secret.token.here', cookie: 'cinema_session=a.b.c' } } }, 'a')
  log.info({ res: { headers: { 'set-cookie': 'cinema_session=a.b.c' } } }, 'b')
  log.info({ password: 'hunter2-hunter2', current_password: 'old-secret-1', access_token: 'x.y.z' }, 'c')
  log.info({ body: { password: 'hunter2-hunter2', current_password: 'old-secret-1' } }, 'd')
  log.info({ req: { body: { password: 'hunter2-hunter2' } } }, 'e')
  const all = lines.join('')
  for (const secret of ['secret.token.here', 'cinema_session=a.b.c', 'hunter2', 'old-secret-1', 'x.y.z']) {
    t.notOk(all.includes(secret), `${secret} appears in no line`)
  }
  t.equal(all.match(/\[redacted\]/g)?.length, 9, 'each one replaced by [redacted]')
  t.ok(
    lines.every((line) => JSON.parse(line).reqId === 'r-1'),
    'the request id is kept',
  )
})
