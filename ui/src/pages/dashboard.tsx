import type { AllBookings, MovieCollection, Schedule, SystemStatus, UserCollection } from '@cinema/kit/contracts'
import { SERVICES as TOPOLOGY } from '@cinema/kit/topology'
import { ApiError, api } from '../api'
import { formatClock } from '../format'
import { type Loaded, useApi, useLoader, usePageTitle } from '../hooks'

const REFRESH_MS = 5_000
/** The gateway's own /readyz tells about the gateway; its /status about the services behind it. */
const BEHIND_GATEWAY = TOPOLOGY.gateway.peers
const SERVICE_LABEL = new Map([
  ['gateway', 'Gateway'],
  ['users', 'Users'],
  ['movies', 'Movies'],
  ['showtimes', 'Showtimes'],
  ['bookings', 'Bookings'],
])
const labelOf = (name: string) => SERVICE_LABEL.get(name) ?? name
const sentence = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}.`

interface Health {
  name: string
  state: 'up' | 'down' | 'unknown'
  latencyMs?: number
  detail: string
}

interface SystemHealth {
  services: Health[]
  checkedAt: Date
}

/** The browser's round trip to the gateway's own /readyz. */
async function checkGateway(): Promise<Health> {
  const started = performance.now()
  try {
    await api.get('/readyz')
    return { name: 'gateway', state: 'up', latencyMs: performance.now() - started, detail: 'ready' }
  } catch (error) {
    const detail = error instanceof ApiError && error.status === 503 ? 'not ready' : 'cannot be reached'
    return { name: 'gateway', state: 'down', latencyMs: performance.now() - started, detail }
  }
}

/** The gateway probes the four services behind it; without the gateway, their state is unknown. */
async function checkServices(): Promise<Health[]> {
  try {
    const { services } = await api.get<SystemStatus>('/status')
    return services.map(({ name, status, latencyMs, detail }) => ({ name, state: status, latencyMs, detail }))
  } catch {
    return BEHIND_GATEWAY.map((name) => ({
      name,
      state: 'unknown' as const,
      detail: 'cannot be checked while the gateway is down',
    }))
  }
}

async function checkSystem(): Promise<SystemHealth> {
  const [gateway, others] = await Promise.all([checkGateway(), checkServices()])
  return { services: [gateway, ...others], checkedAt: new Date() }
}

const STATE_LABEL = { up: 'Up', down: 'Down', unknown: 'Unknown' }

function summarize(services: Health[]): string {
  if (services.some((service) => service.name === 'gateway' && service.state !== 'up')) {
    return 'The gateway is down, so the services behind it cannot be checked.'
  }
  const down = services.filter((service) => service.state !== 'up').map((service) => labelOf(service.name))
  if (down.length === 0) return `All ${services.length} services are up.`
  return `${down.length} of ${services.length} services ${down.length === 1 ? 'is' : 'are'} down: ${down.join(', ')}.`
}

function ServiceCard({ health }: { health: Health }) {
  return (
    <li class={`card service service-${health.state}`}>
      <h3 class="service-name">{labelOf(health.name)}</h3>
      <p class="service-state">
        <span class="state-dot" aria-hidden="true" />
        {STATE_LABEL[health.state]}
      </p>
      {health.latencyMs !== undefined && (
        <p class="service-detail">
          <span class="visually-hidden">Response time: </span>
          {health.latencyMs < 10 ? health.latencyMs.toFixed(1) : Math.round(health.latencyMs)} ms
        </p>
      )}
      {health.state !== 'up' && <p class="service-reason">{sentence(health.detail)}</p>}
    </li>
  )
}

function Count<T>({
  label,
  href,
  loaded,
  count,
}: {
  label: string
  href: string
  loaded: Loaded<T>
  count: (data: T) => number
}) {
  return (
    <li class="card count">
      <a class="count-link" href={href}>
        <span class="count-value">{loaded.data !== undefined ? count(loaded.data) : '–'}</span>{' '}
        <span class="count-label">{label}</span>
      </a>
      {loaded.loading && <p class="count-note">Loading…</p>}
      {loaded.error && <p class="count-note count-error">{loaded.error.message}</p>}
    </li>
  )
}

const countKeys = (data: object) => Object.keys(data).length
const countBookings = (bookings: AllBookings) =>
  Object.values(bookings).reduce(
    (total, byDate) => total + Object.values(byDate).reduce((sum, movieIds) => sum + movieIds.length, 0),
    0,
  )

export function Dashboard() {
  usePageTitle('Dashboard')
  const health = useLoader('system', checkSystem, REFRESH_MS)
  const movies = useApi<MovieCollection>('/movies', REFRESH_MS)
  const showtimes = useApi<Schedule>('/showtimes', REFRESH_MS)
  const users = useApi<UserCollection>('/users', REFRESH_MS)
  const bookings = useApi<AllBookings>('/bookings', REFRESH_MS)

  return (
    <>
      <h1>Dashboard</h1>
      <section aria-labelledby="services-heading">
        <h2 id="services-heading">Services</h2>
        <p class="summary" aria-live="polite">
          {health.data ? summarize(health.data.services) : 'Checking every service…'}
        </p>
        {health.data && (
          <>
            <ul class="grid services">
              {health.data.services.map((service) => (
                <ServiceCard key={service.name} health={service} />
              ))}
            </ul>
            <p class="fine-print">
              Checked at {formatClock(health.data.checkedAt)}; checked again every {REFRESH_MS / 1000} seconds.
            </p>
          </>
        )}
      </section>
      <section aria-labelledby="counts-heading">
        <h2 id="counts-heading">In the system</h2>
        <ul class="grid counts">
          <Count label="Movies" href="/movies" loaded={movies} count={countKeys} />
          <Count label="Show dates" href="/showtimes" loaded={showtimes} count={countKeys} />
          <Count label="Users" href="/users" loaded={users} count={countKeys} />
          <Count label="Bookings" href="/users" loaded={bookings} count={countBookings} />
        </ul>
      </section>
    </>
  )
}
