import { useRef } from 'preact/hooks'
import { LocationProvider, Route, Router, useLocation } from 'preact-iso'
import { Bookings } from './pages/bookings'
import { Dashboard } from './pages/dashboard'
import { Movies } from './pages/movies'
import { NotFound } from './pages/not-found'
import { Showtimes } from './pages/showtimes'
import { Users } from './pages/users'

const SECTIONS = [
  { href: '/', label: 'Dashboard' },
  { href: '/movies', label: 'Movies' },
  { href: '/showtimes', label: 'Showtimes' },
  { href: '/users', label: 'Users' },
]

function Navigation() {
  const { path } = useLocation()
  // A user's bookings page belongs with the users.
  const current = path.startsWith('/bookings/') ? '/users' : path
  return (
    <nav aria-label="Main">
      <ul class="nav-list">
        {SECTIONS.map(({ href, label }) => (
          <li key={href}>
            <a href={href} aria-current={current === href ? 'page' : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  )
}

export function App() {
  const main = useRef<HTMLElement>(null)
  // After a client-side navigation, start reading and tabbing from the new page, as after a load.
  const focusNewPage = () => main.current?.focus()
  return (
    <LocationProvider>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="site-header">
        <div class="container header-inner">
          <a class="brand" href="/">
            Cinema
          </a>
          <Navigation />
        </div>
      </header>
      <main id="main" class="container" tabIndex={-1} ref={main}>
        <Router onRouteChange={focusNewPage}>
          <Route path="/" component={Dashboard} />
          <Route path="/movies" component={Movies} />
          <Route path="/showtimes" component={Showtimes} />
          <Route path="/users" component={Users} />
          <Route path="/bookings/:username" component={Bookings} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </LocationProvider>
  )
}
