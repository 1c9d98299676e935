import type { User, UserCollection } from '@cinema/kit/contracts'
import { USERNAME_PATTERN } from '@cinema/kit/username'
import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { ApiError, api, explain } from '../api'
import { Empty, LoadError, Loading, type Outcome, OutcomeMessage } from '../components'
import { formatMoment, plural } from '../format'
import { useApi, usePageTitle } from '../hooks'

// The ids the users service accepts; checking here saves a round trip.
const USERNAME = new RegExp(USERNAME_PATTERN)
const USERNAME_HINT = 'Lowercase letters, digits and _, at most 64 characters.'

const userPath = (username: string) => `/users/${encodeURIComponent(username)}`
const bookingsHref = (username: string) => `/bookings/${encodeURIComponent(username)}`

function NewUserForm({ onCreated }: { onCreated: (user: User) => void }) {
  const [id, setId] = useState('')
  const [name, setName] = useState('')
  const [problem, setProblem] = useState<string | undefined>(undefined)
  const [saving, setSaving] = useState(false)

  async function create(event: Event) {
    event.preventDefault()
    const username = id.trim()
    if (!USERNAME.test(username)) return setProblem(`That username won’t do. ${USERNAME_HINT}`)
    if (!name.trim()) return setProblem('Enter the person’s name.')
    setSaving(true)
    try {
      const user = await api.post<User>('/users', { id: username, name: name.trim() })
      setId('')
      setName('')
      setProblem(undefined)
      onCreated(user)
    } catch (error) {
      setProblem(explain(error, { 409: `The username “${username}” is taken. Choose another one.` }))
    } finally {
      setSaving(false)
    }
  }

  return (
    <form class="panel form-grid" onSubmit={create} aria-labelledby="new-user-heading" noValidate>
      <h2 id="new-user-heading">Add a user</h2>
      <div class="field">
        <label for="new-user-id">Username</label>
        <input
          id="new-user-id"
          value={id}
          onInput={(event) => setId(event.currentTarget.value)}
          autoComplete="off"
          autoCapitalize="none"
          spellcheck={false}
          aria-describedby="new-user-id-hint"
        />
        <p id="new-user-id-hint" class="hint">
          {USERNAME_HINT}
        </p>
      </div>
      <div class="field">
        <label for="new-user-name">Name</label>
        <input
          id="new-user-name"
          value={name}
          onInput={(event) => setName(event.currentTarget.value)}
          autoComplete="off"
        />
      </div>
      <div class="form-actions">
        <button type="submit" class="button-primary" aria-disabled={saving}>
          {saving ? 'Adding…' : 'Add user'}
        </button>
      </div>
      {problem && (
        <p class="field-error" role="alert">
          {problem}
        </p>
      )}
    </form>
  )
}

type Mode = 'view' | 'rename' | 'confirm-delete'

function UserCard({ user, onChanged }: { user: User; onChanged: (outcome: Outcome) => void }) {
  const [mode, setMode] = useState<Mode>('view')
  const [name, setName] = useState(user.name)
  const [problem, setProblem] = useState<ComponentChildren>(undefined)
  const [busy, setBusy] = useState(false)

  function switchTo(next: Mode) {
    setMode(next)
    setProblem(undefined)
    setName(user.name)
  }

  async function rename(event: Event) {
    event.preventDefault()
    if (busy) return
    if (!name.trim()) return setProblem('Enter a name.')
    setBusy(true)
    try {
      const renamed = await api.patch<User>(userPath(user.id), { name: name.trim() })
      switchTo('view')
      onChanged({ ok: true, text: `Renamed ${user.name} to ${renamed.name}.` })
    } catch (error) {
      setProblem(explain(error, { 404: `${user.name} no longer exists.` }))
    } finally {
      setBusy(false)
    }
  }

  async function remove() {
    if (busy) return
    setBusy(true)
    try {
      await api.delete(userPath(user.id))
      onChanged({ ok: true, text: `Deleted ${user.name}.` })
    } catch (error) {
      if (error instanceof ApiError && error.status === 409) {
        setProblem(
          <>
            {user.name} still has bookings, so they can’t be deleted yet. Cancel{' '}
            <a href={bookingsHref(user.id)}>their bookings</a> first.
          </>,
        )
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
      {mode === 'view' && (
        <div class="actions">
          <button type="button" class="button-secondary" onClick={() => switchTo('rename')}>
            Rename<span class="visually-hidden"> {user.name}</span>
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
      {mode === 'confirm-delete' && (
        <fieldset class="confirm">
          <legend>Delete {user.name}? This cannot be undone.</legend>
          <div class="actions">
            <button type="button" class="button-danger" onClick={remove} aria-disabled={busy}>
              Yes, delete {user.name}
            </button>
            <button type="button" class="button-secondary" onClick={() => switchTo('view')}>
              Keep
            </button>
          </div>
        </fieldset>
      )}
      {problem && (
        <p class="field-error" role="alert">
          {problem}
        </p>
      )}
    </li>
  )
}

export function Users() {
  usePageTitle('Users')
  const users = useApi<UserCollection>('/users')
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined)
  const sorted = users.data ? Object.values(users.data).sort((a, b) => a.name.localeCompare(b.name)) : []

  function changed(next: Outcome) {
    setOutcome(next)
    users.reload()
  }

  return (
    <>
      <h1>Users</h1>
      <NewUserForm
        onCreated={(user) =>
          changed({
            ok: true,
            text: (
              <>
                Added {user.name}. <a href={bookingsHref(user.id)}>Book a movie for {user.name}</a>
              </>
            ),
          })
        }
      />
      <section aria-labelledby="users-heading">
        <h2 id="users-heading" class="visually-hidden">
          Everyone
        </h2>
        <OutcomeMessage outcome={outcome} />
        {users.loading && <Loading what="users" />}
        {users.error && <LoadError what="the users" error={users.error} onRetry={users.reload} />}
        {users.data && (
          <>
            <p class="summary">{plural(sorted.length, 'user')}. Choose a name to see and change their bookings.</p>
            {sorted.length === 0 && <Empty>No users yet: add the first one above.</Empty>}
            <ul class="grid users">
              {sorted.map((user) => (
                <UserCard key={user.id} user={user} onChanged={changed} />
              ))}
            </ul>
          </>
        )}
      </section>
    </>
  )
}
