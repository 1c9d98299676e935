import type { ComponentChildren } from 'preact'
import type { ApiError } from './api'
import { formatRating, formatShowDate, isoShowDate } from './format'
import { returningHref, SIGN_IN_PATH } from './return-path'

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status">
      Loading {what}…
    </p>
  )
}

/** Why something could not be shown, in words, with a way to ask again. */
export function LoadError({ error, what, onRetry }: { error: ApiError; what: string; onRetry?: () => void }) {
  return (
    <div class="notice notice-error" role="alert">
      <p>
        Could not load {what}. {error.message}
      </p>
      {onRetry && (
        <button type="button" class="button-secondary" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  )
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>
}

export interface Outcome {
  ok: boolean
  text: ComponentChildren
}

/** The result of the last action: announced politely when it worked, at once when it failed. */
export function OutcomeMessage({ outcome }: { outcome: Outcome | undefined }) {
  if (!outcome) return null
  return (
    <div class={`notice ${outcome.ok ? 'notice-success' : 'notice-error'}`} role={outcome.ok ? 'status' : 'alert'}>
      <p>{outcome.text}</p>
    </div>
  )
}

/** A rating out of 10 as a bar, with the number beside it for reading and for screen readers. */
export function Rating({ rating }: { rating: number }) {
  return (
    <span class="rating">
      <span class="rating-bar" aria-hidden="true">
        <span class="rating-fill" style={{ width: `${Math.min(100, Math.max(0, rating * 10))}%` }} />
      </span>
      <span class="rating-value">
        {formatRating(rating)}
        <span class="rating-scale">
          <span aria-hidden="true">/10</span>
          <span class="visually-hidden"> out of 10</span>
        </span>
      </span>
    </span>
  )
}

export function ShowDate({ date }: { date: string }) {
  return <time dateTime={isoShowDate(date)}>{formatShowDate(date)}</time>
}

/** In place of a control that needs a session: the way to sign in, and back to `here` afterwards. */
export function SignInToChange({ action, what, here }: { action: string; what: ComponentChildren; here: string }) {
  return (
    <a class="button-link" href={returningHref(SIGN_IN_PATH, here)}>
      Sign in to {action}
      <span class="visually-hidden"> {what}</span>
    </a>
  )
}
