import type { User } from '@cinema/kit/contracts'
import { useLocation } from 'preact-iso'
import { bookingsHref, type NewAccount, NewAccountForm } from '../account'
import { api } from '../api'
import { usePageTitle } from '../hooks'
import { returningHref, SIGN_IN_PATH, safeNextPath } from '../return-path'
import { useSession } from '../session'

/** Creates an account and signs in with it, then goes to `?next=` or the new account's bookings. */
export function SignUp() {
  usePageTitle('Sign up')
  const { query, route } = useLocation()
  const next = query.next === undefined ? undefined : safeNextPath(query.next, window.location.origin)
  const { state, signIn } = useSession()

  async function create(account: NewAccount) {
    await api.post<User>('/users', account)
    const destination = next ?? bookingsHref(account.id)
    try {
      await signIn(account.id, account.password)
    } catch {
      // The account exists: signing in is what is left, on the page made for it.
      route(returningHref(SIGN_IN_PATH, destination), true)
      return
    }
    route(destination, true)
  }

  if (state.status === 'signed-in') {
    return (
      <>
        <h1>Sign up</h1>
        <p>
          You are signed in as {state.name ?? state.username}.{' '}
          {state.role === 'admin' ? 'To add a user, use the users page.' : 'To create another account, sign out first.'}{' '}
          <a href="/users">Go to the users</a>
        </p>
      </>
    )
  }

  return (
    <>
      <h1 id="sign-up-heading">Sign up</h1>
      <p class="lead">An account lets you book movies and cancel your bookings.</p>
      <NewAccountForm
        idPrefix="sign-up"
        labelledBy="sign-up-heading"
        layout="panel auth-form"
        submitLabel="Sign up"
        busyLabel="Signing up…"
        own
        create={create}
      />
      <p>
        Have an account already? <a href={returningHref(SIGN_IN_PATH, next ?? '/')}>Sign in</a>
      </p>
    </>
  )
}
