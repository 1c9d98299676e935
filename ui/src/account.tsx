// Accounts: the rules for a new one (checked here to save a round trip; the users service decides),
// and the form that creates one, for signing up and for an administrator adding a user.
import { USERNAME_PATTERN } from '@cinema/kit/username'
import type { ComponentChildren } from 'preact'
import { useState } from 'preact/hooks'
import { type ApiError, asApiError, explain } from './api'
import { plural } from './format'

const USERNAME = new RegExp(USERNAME_PATTERN)
export const USERNAME_HINT = 'Lowercase letters, digits and _, at most 64 characters.'

export const PASSWORD_MIN = 10
export const PASSWORD_MAX = 128
export const PASSWORD_RULE = `${PASSWORD_MIN} to ${PASSWORD_MAX} characters. A few words make a good one.`

/** What is wrong with a new password, in words; undefined when nothing is. */
export function passwordProblem(password: string): string | undefined {
  // Counted as people count characters (an emoji is one), as the users service counts them.
  const length = [...password].length
  if (length < PASSWORD_MIN) return `The password is too short: it needs at least ${PASSWORD_MIN} characters.`
  if (length > PASSWORD_MAX) return `The password is too long: at most ${PASSWORD_MAX} characters.`
  return undefined
}

/** `/users/<username>`, as the API names a user. */
export const userPath = (username: string) => `/users/${encodeURIComponent(username)}`
/** The page of a user's bookings. */
export const bookingsHref = (username: string) => `/bookings/${encodeURIComponent(username)}`

/** Words for a failed sign-in: the same for a wrong password and an unknown user, as the API answers both. */
export function explainSignInFailure(error: unknown, username: string): string {
  const failure: ApiError = asApiError(error)
  if (failure.status === 429) {
    const wait = failure.retryAfterSeconds
    const when = wait === undefined ? 'in a few minutes' : `in ${plural(Math.max(1, Math.ceil(wait / 60)), 'minute')}`
    return `Too many failed sign-ins for “${username}”. Try again ${when}.`
  }
  // A 400 is a username or password no account can have (wrong characters, too long): as wrong.
  return explain(failure, { 400: 'Wrong username or password.', 401: 'Wrong username or password.' })
}

export interface NewAccount {
  id: string
  name: string
  password: string
}

/**
 * Username, name and password for a new account, checked before `create` is called; what `create`
 * throws is said under the form. The fields empty again once it succeeds.
 */
export function NewAccountForm({
  idPrefix,
  labelledBy,
  heading,
  layout,
  submitLabel,
  busyLabel,
  own,
  create,
}: {
  idPrefix: string
  labelledBy: string
  /** A heading inside the form, with the id `labelledBy`; without one, a heading of the page has it. */
  heading?: ComponentChildren
  layout: string
  submitLabel: string
  busyLabel: string
  /** The person filling it in signs up (their browser may fill in and remember it), not an admin adding someone. */
  own: boolean
  create: (account: NewAccount) => Promise<void>
}) {
  const [id, setId] = useState('')
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const [problem, setProblem] = useState<string | undefined>(undefined)
  const [saving, setSaving] = useState(false)

  async function submit(event: Event) {
    event.preventDefault()
    if (saving) return
    const username = id.trim()
    if (!USERNAME.test(username)) return setProblem(`That username won’t do. ${USERNAME_HINT}`)
    if (!name.trim()) return setProblem('Enter the person’s name.')
    const weakness = passwordProblem(password)
    if (weakness) return setProblem(weakness)
    setSaving(true)
    try {
      await create({ id: username, name: name.trim(), password })
      setId('')
      setName('')
      setPassword('')
      setProblem(undefined)
    } catch (error) {
      const reserved = asApiError(error).code === 'USER_ID_RESERVED'
      setProblem(
        explain(error, {
          409: reserved
            ? `The username “${username}” is reserved. Choose another one.`
            : `The username “${username}” is taken. Choose another one.`,
        }),
      )
    } finally {
      setSaving(false)
    }
  }

  return (
    <form class={layout} onSubmit={submit} aria-labelledby={labelledBy} noValidate>
      {heading && <h2 id={labelledBy}>{heading}</h2>}
      <div class="field">
        <label for={`${idPrefix}-id`}>Username</label>
        <input
          id={`${idPrefix}-id`}
          value={id}
          onInput={(event) => setId(event.currentTarget.value)}
          autoComplete={own ? 'username' : 'off'}
          autoCapitalize="none"
          spellcheck={false}
          aria-describedby={`${idPrefix}-id-hint`}
        />
        <p id={`${idPrefix}-id-hint`} class="hint">
          {USERNAME_HINT}
        </p>
      </div>
      <div class="field">
        <label for={`${idPrefix}-name`}>Name</label>
        <input
          id={`${idPrefix}-name`}
          value={name}
          onInput={(event) => setName(event.currentTarget.value)}
          autoComplete={own ? 'name' : 'off'}
        />
      </div>
      <div class="field">
        <label for={`${idPrefix}-password`}>Password</label>
        <input
          id={`${idPrefix}-password`}
          type="password"
          value={password}
          onInput={(event) => setPassword(event.currentTarget.value)}
          autoComplete={own ? 'new-password' : 'off'}
          aria-describedby={`${idPrefix}-password-hint`}
        />
        <p id={`${idPrefix}-password-hint`} class="hint">
          {PASSWORD_RULE}
        </p>
      </div>
      <div class="form-actions">
        <button type="submit" class="button-primary" aria-disabled={saving}>
          {saving ? busyLabel : submitLabel}
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
