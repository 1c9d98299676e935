import { useState } from 'preact/hooks'
import { useLocation } from 'preact-iso'
import { explainSignInFailure } from '../account'
import { usePageTitle } from '../hooks'
import { returningHref, SIGN_UP_PATH, safeNextPath } from '../return-path'
import { useSession } from '../session'

/** Signs in, then goes back to `?next=` (a page of this site only), or home. */
export function SignIn() {
  usePageTitle('Sign in')
  const { query, route } = useLocation()
  const next = safeNextPath(query.next, window.location.origin)
  const { state, notice, signIn } = useSession()
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [problem, setProblem] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState(false)

  async function submit(event: Event) {
    event.preventDefault()
    if (busy) return
    const who = username.trim()
    if (!who || !password) return setProblem('Enter your username and your password.')
    setBusy(true)
    try {
      await signIn(who, password)
    } catch (error) {
      setProblem(explainSignInFailure(error, who))
      setBusy(false)
      return
    }
    // In place of the sign-in page: Back then leads to the page before, not to this form again.
    route(next, true)
  }

  return (
    <>
      <h1 id="sign-in-heading">Sign in</h1>
      {notice && (
        <p class="notice notice-error" role="alert">
          {notice}
        </p>
      )}
      {state.status === 'signed-in' && (
        <p class="notice notice-info">
          You are signed in as {state.name ?? state.username}. Signing in here switches to another account.
        </p>
      )}
      <form class="panel auth-form" onSubmit={submit} aria-labelledby="sign-in-heading" noValidate>
        <div class="field">
          <label for="sign-in-username">Username</label>
          <input
            id="sign-in-username"
            value={username}
            onInput={(event) => setUsername(event.currentTarget.value)}
            autoComplete="username"
            autoCapitalize="none"
            spellcheck={false}
          />
        </div>
        <div class="field">
          <label for="sign-in-password">Password</label>
          <input
            id="sign-in-password"
            type="password"
            value={password}
            onInput={(event) => setPassword(event.currentTarget.value)}
            autoComplete="current-password"
          />
        </div>
        <div class="form-actions">
          <button type="submit" class="button-primary" aria-disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </div>
        {problem && (
          <p class="field-error" role="alert">
            {problem}
          </p>
        )}
      </form>
      <p>
        No account yet? <a href={returningHref(SIGN_UP_PATH, next)}>Sign up</a>: it takes a username, your name and a
        password.
      </p>
    </>
  )
}
