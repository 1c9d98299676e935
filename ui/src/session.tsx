// Who is signed in. The page never sees the token: the gateway keeps it in an HttpOnly cookie
// (`POST /auth/session` sets it, `DELETE` clears it) and tells only who it belongs to
// (`GET /auth/session`: 200 signed in, 401 signed out).
import type { Role, Session, User } from '@cinema/kit/contracts'
import { type ComponentChildren, createContext } from 'preact'
import { useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { ApiError, api, onSessionConflict, onUnauthorized, SESSION_CONFLICT_MESSAGE } from './api'
import { signInRedirect } from './return-path'

export type { Role }
/** The gateway's answer about a session: whose it is, never the token itself. */
export type SessionAnswer = Session

export type SessionState =
  | { status: 'checking' }
  | { status: 'signed-out' }
  | { status: 'signed-in'; username: string; role: Role; name: string | undefined }

export type SignedIn = Extract<SessionState, { status: 'signed-in' }>

interface SessionControl {
  state: SessionState
  /** Why the session ended when the person did not end it (two session cookies), until they sign in again. */
  notice: string | undefined
  /** Signs in (the gateway sets the cookie); fails with the ApiError, a 401 for a wrong password. */
  signIn(username: string, password: string): Promise<void>
  /** Signs out: the gateway clears the cookie. */
  signOut(): Promise<void>
  /** The signed-in person's name changed (they renamed themselves). */
  renamed(name: string): void
}

const SESSION_PATH = '/auth/session'

/** Milliseconds until `expiresAt`, when it can be read. */
export function msUntil(expiresAt: unknown, now: number): number | undefined {
  const at =
    typeof expiresAt === 'number'
      ? expiresAt * 1000
      : typeof expiresAt === 'string'
        ? Date.parse(expiresAt)
        : Number.NaN
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined
}

// setTimeout fires at once for a delay above 2^31 - 1 ms; a session never lasts that long anyway.
const LONGEST_TIMER_MS = 2 ** 31 - 1

/** Whether the signed-in person may change `username`'s bookings and account: their own, or anyone's for an admin. */
export function mayChange(state: SessionState, username: string): state is SignedIn {
  return state.status === 'signed-in' && (state.role === 'admin' || state.username === username)
}

const SessionContext = createContext<SessionControl | undefined>(undefined)

export function useSession(): SessionControl {
  const control = useContext(SessionContext)
  if (!control) throw new Error('useSession outside SessionProvider')
  return control
}

/** Holds the session for the pages below it; inside LocationProvider, which a 401 uses to go to sign in. */
export function SessionProvider({ children }: { children: ComponentChildren }) {
  const [state, setState] = useState<SessionState>({ status: 'checking' })
  const [expiresAt, setExpiresAt] = useState<number | undefined>(undefined)
  const [notice, setNotice] = useState<string | undefined>(undefined)
  const { route } = useLocation()
  const latestRoute = useRef(route)
  latestRoute.current = route

  const actions = useMemo(() => {
    function adopt(session: SessionAnswer) {
      setState({ status: 'signed-in', username: session.username, role: session.role, name: undefined })
      setExpiresAt(session.expires_at)
      // The header greets people by name; until it comes (or if it cannot), by username.
      api.get<User>(`/users/${encodeURIComponent(session.username)}`).then(
        (user) =>
          setState((current) =>
            current.status === 'signed-in' && current.username === user.id ? { ...current, name: user.name } : current,
          ),
        () => undefined,
      )
    }
    function forget() {
      setState({ status: 'signed-out' })
      setExpiresAt(undefined)
    }
    return {
      check: () => api.get<SessionAnswer>(SESSION_PATH, { ownsUnauthorized: true }).then(adopt, forget),
      signIn: async (username: string, password: string) => {
        adopt(await api.post<SessionAnswer>(SESSION_PATH, { username, password }, { ownsUnauthorized: true }))
        setNotice(undefined)
      },
      signOut: async () => {
        // A 401 here means the cookie was already gone or worthless: signed out all the same.
        await api.delete(SESSION_PATH, { ownsUnauthorized: true }).catch((error: unknown) => {
          if (!(error instanceof ApiError && error.status === 401)) throw error
        })
        forget()
      },
      renamed: (name: string) =>
        setState((current) => (current.status === 'signed-in' ? { ...current, name } : current)),
      forget,
    }
  }, [])

  useEffect(() => {
    const toSignIn = () => {
      actions.forget()
      const target = signInRedirect(window.location)
      if (target) latestRoute.current(target)
    }
    actions.check()
    const undoUnauthorized = onUnauthorized(toSignIn)
    // The call has ended the session already (api.ts): say why, and offer to sign in again.
    const undoConflict = onSessionConflict(() => {
      setNotice(SESSION_CONFLICT_MESSAGE)
      toSignIn()
    })
    return () => {
      undoUnauthorized()
      undoConflict()
    }
  }, [actions])

  // When the session runs out, ask again, so the header stops claiming someone is signed in.
  useEffect(() => {
    if (expiresAt === undefined) return
    const remaining = Math.max(0, expiresAt * 1000 - Date.now())
    if (remaining > LONGEST_TIMER_MS) return
    const timer = setTimeout(() => actions.check(), remaining + 1_000)
    return () => clearTimeout(timer)
  }, [expiresAt, actions])

  const { signIn, signOut, renamed } = actions
  const value = useMemo<SessionControl>(
    () => ({ state, notice, signIn, signOut, renamed }),
    [state, notice, signIn, signOut, renamed],
  )
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}
