import type { User, UserCollection } from '@cinema/kit/contracts'
import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { bookingsHref, NewAccountForm, PASSWORD_RULE, passwordProblem, userPath } from '../account'
import { ApiError, api, asApiError, explain } from '../api'
import { Empty, LoadError, Loading, type Outcome, OutcomeMessage } from '../components'
import { formatMoment, plural } from '../format'
import { useApi, usePageTitle } from '../hooks'
import { returningHref, SIGN_IN_PATH, SIGN_UP_PATH } from '../return-path'
import { mayChange, type SessionState, useSession } from '../session'

type Mode = 'view' | 'rename' | 'password' | 'confirm-delete'

type Change = { kind: 'renamed'; name: string } | { kind: 'password' } | { kind: 'deleted' }

/** What the signed-in person may do to a user's account: nothing, as its owner, or as an admin. */
type Access = 'none' | 'own' | 'admin'

function accessTo(state: SessionState, username: string): Access {
  if (!mayChange(state, username)) return 'none'
  return state.username === username ? 'own' : 'admin'
}

function UserCard({
  user,
  access,
  onChanged,
}: {
  user: User
  access: Access
  onChanged: (outcome: Outcome, change: Change) => void
}) {
  const [chosenMode, setMode] = useState<Mode>('view')
  // Signed out (or in as someone else) while a form was open: the form goes with the right to use it.
  const mode = access === 'none' ? 'view' : chosenMode
  const [name, setName] = useState(user.name)
  const [currentPassword, setCurrentPassword] = useState('')
  const [newPassword, setNewPassword] = useState('')
  const [problem, setProblem] = useState<ComponentChildren>(undefined)
  const [busy, setBusy] = useState(false)
  const own = access === 'own'

  function switchTo(next: Mode) {
    setMode(next)
    setProblem(undefined)
    setName(user.name)
    setCurrentPassword('')
    setNewPassword('')
  }

  async function rename(event: Event) {
    event.preventDefault()
    if (busy) return
    if (!name.trim()) return setProblem('Enter a name.')
    setBusy(true)
    try {
      const renamed = await api.patch<User>(userPath(user.id), { name: name.trim() })
      switchTo('view')
      onChanged({ ok: true, text: `Renamed ${user.name} to ${renamed.name}.` }, { kind: 'renamed', name: renamed.name })
    } catch (error) {
      setProblem(explain(error, { 404: `${user.name} no longer exists.` }))
    } finally {
      setBusy(false)
    }
  }

  async function changePassword(event: Event) {
    event.preventDefault()
    if (busy) return
    if (own && !currentPassword) return setProblem('Enter your current password.')
    const weakness = passwordProblem(newPassword)
    if (weakness) return setProblem(weakness)
    setBusy(true)
    try {
      // Your own password only with the current one: a session left open is not enough to take the account.
      await api.patch<User>(userPath(user.id), {
        password: newPassword,
        ...(own && { current_password: currentPassword }),
      })
      switchTo('view')
      onChanged(
        { ok: true, text: own ? 'Changed your password.' : `Changed ${user.name}’s password.` },
        { kind: 'password' },
      )
    } catch (error) {
      setProblem(
        asApiError(error).code === 'WRONG_PASSWORD'
          ? 'That is not your current password.'
          : explain(error, { 404: `${user.name} no longer exists.` }),
      )
    } finally {
      setBusy(false)
    }
  }

  async function remove(event: Event) {
    event.preventDefault()
    if (busy) return
    if (own && !currentPassword) return setProblem('Enter your current password.')
    setBusy(true)
    try {
      // Your own account only with its password: a session left open is not enough to delete it.
      await api.delete(userPath(user.id), own ? { body: { current_password: currentPassword } } : {})
      onChanged({ ok: true, text: own ? 'Deleted your account.' : `Deleted ${user.name}.` }, { kind: 'deleted' })
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        setProblem(
          own ? (
            <>
              You still have bookings, so your account can’t be deleted yet. Cancel{' '}
              <a href={bookingsHref(user.id)}>your bookings</a> first.
            </>
          ) : (
            <>
              {user.name} still has bookings, so they can’t be deleted yet. Cancel{' '}
              <a href={bookingsHref(user.id)}>their bookings</a> first.
            </>
          ),
        )
      } else if (asApiError(error).code === 'WRONG_PASSWORD') {
        setProblem('That is not your current password.')
      } else {
        setProblem(explain(error, { 404: `${user.name} was already deleted.` }))
      }
    } finally {
      setBusy(false)
    }
  }

  return (
    <li class="card user">
      <h3 class="user-name">
        <a href={bookingsHref(user.id)}>{user.name}</a>
      </h3>
      <dl class="facts">
        <div>
          <dt>Username</dt>
          <dd class="username">{user.id}</dd>
        </div>
        <div>
          <dt>Last active</dt>
          <dd>
            <time dateTime={new Date(user.last_active * 1000).toISOString()}>{formatMoment(user.last_active)}</time>
          </dd>
        </div>
      </dl>
      {access !== 'none' && mode === 'view' && (
        <div class="actions">
          <button type="button" class="button-secondary" onClick={() => switchTo('rename')}>
            Rename<span class="visually-hidden"> {user.name}</span>
          </button>
          <button type="button" class="button-secondary" onClick={() => switchTo('password')}>
            Set password<span class="visually-hidden"> of {user.name}</span>
          </button>
          <button type="button" class="button-danger" onClick={() => switchTo('confirm-delete')}>
            Delete<span class="visually-hidden"> {user.name}</span>
          </button>
        </div>
      )}
      {mode === 'rename' && (
        <form class="inline-form" onSubmit={rename} noValidate>
          <div class="field">
            <label for={`rename-${user.id}`}>New name for {user.id}</label>
            <input
              id={`rename-${user.id}`}
              value={name}
              onInput={(event) => setName(event.currentTarget.value)}
              autoComplete="off"
              // Opened on purpose by the Rename button: typing can start at once.
              // biome-ignore lint/a11y/noAutofocus: focus follows the user's own action here
              autoFocus
            />
          </div>
          <div class="actions">
            <button type="submit" class="button-primary" aria-disabled={busy}>
              Save
            </button>
            <button type="button" class="button-secondary" onClick={() => switchTo('view')}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {mode === 'password' && (
        <form class="stacked-form" onSubmit={changePassword} noValidate>
          {own && (
            <div class="field">
              <label for={`current-password-${user.id}`}>Current password</label>
              <input
                id={`current-password-${user.id}`}
                type="password"
                value={currentPassword}
                onInput={(event) => setCurrentPassword(event.currentTarget.value)}
                autoComplete="current-password"
                // Opened on purpose by the Set password button: typing can start at once.
                // biome-ignore lint/a11y/noAutofocus: focus follows the user's own action here
                autoFocus
              />
            </div>
          )}
          <div class="field">
            <label for={`new-password-${user.id}`}>New password for {user.id}</label>
            <input
              id={`new-password-${user.id}`}
              type="password"
              value={newPassword}
              onInput={(event) => setNewPassword(event.currentTarget.value)}
              autoComplete={own ? 'new-password' : 'off'}
              aria-describedby={`new-password-hint-${user.id}`}
              // biome-ignore lint/a11y/noAutofocus: focus follows the user's own action here
              autoFocus={!own}
            />
            <p id={`new-password-hint-${user.id}`} class="hint">
              {PASSWORD_RULE}
            </p>
          </div>
          <div class="actions">
            <button type="submit" class="button-primary" aria-disabled={busy}>
              Save password
            </button>
            <button type="button" class="button-secondary" onClick={() => switchTo('view')}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {mode === 'confirm-delete' && (
        <form class="stacked-form" onSubmit={remove} noValidate>
          <fieldset class="confirm">
            <legend>{own ? 'Delete your account?' : `Delete ${user.name}?`} This cannot be undone.</legend>
            {own && (
              <div class="field">
                <label for={`delete-password-${user.id}`}>Your current password</label>
                <input
                  id={`delete-password-${user.id}`}
                  type="password"
                  value={currentPassword}
                  onInput={(event) => setCurrentPassword(event.currentTarget.value)}
                  autoComplete="current-password"
                  aria-invalid={problem !== undefined}
                  aria-describedby={problem === undefined ? undefined : `problem-${user.id}`}
                  // Opened on purpose by the Delete button: typing can start at once.
                  // biome-ignore lint/a11y/noAutofocus: focus follows the user's own action here
                  autoFocus
                />
              </div>
            )}
            <div class="actions">
              <button type="submit" class="button-danger" aria-disabled={busy}>
                {own ? 'Yes, delete my account' : `Yes, delete ${user.name}`}
              </button>
              <button type="button" class="button-secondary" onClick={() => switchTo('view')}>
                Keep
              </button>
            </div>
          </fieldset>
        </form>
      )}
      {problem && (
        <p id={`problem-${user.id}`} class="field-error" role="alert">
          {problem}
        </p>
      )}
    </li>
  )
}

/** An administrator still adds users, with a first password to hand over. */
function NewUserForm({ onCreated }: { onCreated: (user: User) => void }) {
  return (
    <NewAccountForm
      idPrefix="new-user"
      labelledBy="new-user-heading"
      heading="Add a user"
      layout="panel form-grid"
      submitLabel="Add user"
      busyLabel="Adding…"
      own={false}
      create={async (account) => onCreated(await api.post<User>('/users', account))}
    />
  )
}

/** A visitor signs up for an account of their own, or signs in to change it. */
function Join() {
  return (
    <section class="panel" aria-labelledby="join-heading">
      <h2 id="join-heading">Your account</h2>
      <p>
        <a href={SIGN_UP_PATH}>Sign up</a> to book movies, or{' '}
        <a href={returningHref(SIGN_IN_PATH, '/users')}>sign in</a> to change your account.
      </p>
    </section>
  )
}

const SUMMARY: Record<SessionState['status'] | 'admin', string> = {
  checking: 'Choose a name to see their bookings.',
  'signed-out': 'Choose a name to see their bookings.',
  'signed-in': 'Choose a name to see their bookings. You can change your own account.',
  admin: 'Choose a name to see and change their bookings.',
}

export function Users() {
  usePageTitle('Users')
  const session = useSession()
  const { state } = session
  const users = useApi<UserCollection>('/users')
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined)
  const sorted = users.data ? Object.values(users.data).sort((a, b) => a.name.localeCompare(b.name)) : []
  const admin = state.status === 'signed-in' && state.role === 'admin'

  function changed(user: User, next: Outcome, change: Change) {
    setOutcome(next)
    users.reload()
    if (state.status !== 'signed-in' || state.username !== user.id) return
    // The header greets you by your new name.
    if (change.kind === 'renamed') session.renamed(change.name)
    // The account is gone: so is the session that belonged to it.
    if (change.kind === 'deleted') session.signOut().catch(() => undefined)
  }

  return (
    <>
      <h1>Users</h1>
      {admin && (
        <NewUserForm
          onCreated={(user) => {
            setOutcome({
              ok: true,
              text: (
                <>
                  Added {user.name}. <a href={bookingsHref(user.id)}>Book a movie for {user.name}</a>
                </>
              ),
            })
            users.reload()
          }}
        />
      )}
      {state.status === 'signed-out' && <Join />}
      <section aria-labelledby="users-heading">
        <h2 id="users-heading" class="visually-hidden">
          Everyone
        </h2>
        <OutcomeMessage outcome={outcome} />
        {users.loading && <Loading what="users" />}
        {users.error && <LoadError what="the users" error={users.error} onRetry={users.reload} />}
        {users.data && (
          <>
            <p class="summary">
              {plural(sorted.length, 'user')}. {SUMMARY[admin ? 'admin' : state.status]}
            </p>
            {sorted.length === 0 && <Empty>No users yet.</Empty>}
            <ul class="grid users">
              {sorted.map((user) => (
                <UserCard
                  key={user.id}
                  user={user}
                  access={accessTo(state, user.id)}
                  onChanged={(next, change) => changed(user, next, change)}
                />
              ))}
            </ul>
          </>
        )}
      </section>
    </>
  )
}
