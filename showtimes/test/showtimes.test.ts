import t from 'tap'
import { build } from '../../test/helpers/servers.js'
import { showtimesService } from '../src/app.js'

t.test('showtimes service', async (t) => {
  const app = await build(t, showtimesService)

  t.test('GET / is the index document', async (t) => {
    t.same((await app.inject('/')).json(), {
      uri: '/',
      subresource_uris: { showtimes: '/showtimes', showtime: '/showtimes/<date>' },
    })
  })

  t.test('GET /showtimes is the whole schedule keyed by date', async (t) => {
    const response = await app.inject('/showtimes')
    t.equal(response.statusCode, 200)
    const schedule = response.json()
    t.same(Object.keys(schedule), ['20151130', '20151201', '20151202', '20151203', '20151204', '20151205'])
    t.equal(schedule['20151205'].length, 5)
  })

  t.test('GET /showtimes/{date} is the array of movie ids of that date', async (t) => {
    const response = await app.inject('/showtimes/20151201')
    t.equal(response.statusCode, 200)
    t.same(response.json(), [
      '267eedb8-0f5d-42d5-8f43-72426b9fb3e6',
      '7daf7208-be4d-4944-a3ae-c1c2f516f3e6',
      '39ab85e5-5e8e-4dc5-afea-65dc368bd7ab',
      'a8034f44-aee4-44cf-b32c-74cf452aaaae',
    ])
  })

  t.test('a well-formed date without showtimes is 404', async (t) => {
    const response = await app.inject('/showtimes/20490101')
    t.equal(response.statusCode, 404)
    t.same(response.json(), {
      statusCode: 404,
      error: 'Not Found',
      message: 'no showtimes on 20490101',
      code: 'SHOWTIMES_NOT_FOUND',
    })
  })

  t.test('a date that is not YYYYMMDD is 400 saying so', async (t) => {
    for (const date of ['2015-12-01', '201512011', 'tomorrow', '20151301', '20150230', '%20']) {
      const response = await app.inject(`/showtimes/${date}`)
      t.equal(response.statusCode, 400, date)
      t.same(
        response.json(),
        {
          statusCode: 400,
          error: 'Bad Request',
          message: 'params/date must match format "YYYYMMDD"',
          code: 'VALIDATION_FAILED',
        },
        date,
      )
    }
  })
})
