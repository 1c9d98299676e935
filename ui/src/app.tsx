import { useEffect, useRef, useState } from 'preact/hooks'
import { LocationProvider, Route, Router, useLocation } from 'preact-iso'
import { bookingsHref } from './account'
import { asApiError } from './api'
import { Bookings } from './pages/bookings'
import { Dashboard } from './pages/dashboard'
import { Movies } from './pages/movies'
import { NotFound } from './pages/not-found'
import { Showtimes } from './pages/showtimes'
import { SignIn } from './pages/sign-in'
import { SignUp } from './pages/sign-up'
import { Users } from './pages/users'
import { returningHref, SIGN_IN_PATH, SIGN_UP_PATH } from './return-path'
import { SessionProvider, useSession } from './session'

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

/** Who is signed in, with Sign out; or the ways to sign in and up. */
function Account() {
  const { state, signOut } = useSession()
  const { url } = useLocation()
  const [note, setNote] = useState<{ ok: boolean; text: string } | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const signInLink = useRef<HTMLAnchorElement>(null)
  const [refocus, setRefocus] = useState(false)

  // The note is about the page it was said on.
  useEffect(() => setNote(undefined), [url])
  // Sign out disappears with the session: focus goes to what took its place, not to the page's start.
  useEffect(() => {
    if (!refocus || state.status !== 'signed-out') return
    signInLink.current?.focus()
    setRefocus(false)
  }, [refocus, state.status])

  async function leave() {
    if (busy) return
    setBusy(true)
    try {
      await signOut()
      setNote({ ok: true, text: 'You have signed out.' })
      setRefocus(true)
    } catch (error) {
      setNote({ ok: false, text: `Could not sign out. ${asApiError(error).message}` })
    } finally {
      setBusy(false)
    }
  }

  return (
    <div class="account">
      {state.status === 'signed-in' && (
        <>
          <p class="account-who">
            Signed in as <a href={bookingsHref(state.username)}>{state.name ?? state.username}</a>
            {state.role === 'admin' && ' (admin)'}
          </p>
          <button type="button" class="button-header" onClick={leave} aria-disabled={busy}>
            Sign out
          </button>
        </>
      )}
      {state.status === 'signed-out' && (
        <ul class="account-links">
          <li>
            <a href={returningHref(SIGN_IN_PATH, url)} ref={signInLink}>
              Sign in
            </a>
          </li>
          <li>
            <a href={SIGN_UP_PATH}>Sign up</a>
          </li>
        </ul>
      )}
      <p class={note?.ok === false ? 'account-note account-note-error' : 'account-note'} role="status">
        {note?.text}
      </p>
    </div>
  )
}

export function App() {
  const main = useRef<HTMLElement>(null)
  // After a client-side navigation, start reading and tabbing from the new page, as after a load.
  const focusNewPage = () => main.current?.focus()
  return (
    <LocationProvider>
      <SessionProvider>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <header class="site-header">
          <div class="container header-inner">
            <a class="brand" href="/">
              Cinema
            </a>
            <Navigation />
            <Account />
          </div>
        </header>
        <main id="main" class="container" tabIndex={-1} ref={main}>
          <Router onRouteChange={focusNewPage}>
            <Route path="/" component={Dashboard} />
            <Route path="/movies" component={Movies} />
            <Route path="/showtimes" component={Showtimes} />
            <Route path="/users" component={Users} />
            <Route path="/bookings/:username" component={Bookings} />
            <Route path={SIGN_IN_PATH} component={SignIn} />
            <Route path={SIGN_UP_PATH} component={SignUp} />
            <Route default component={NotFound} />
          </Router>
        </main>
      </SessionProvider>
    </LocationProvider>
  )
}
