import { useCallback, useEffect, useState } from 'preact/hooks'
import { type ApiError, api, asApiError } from './api'

export interface Loaded<T> {
  /** The latest answer; kept on screen while a reload is under way. */
  data: T | undefined
  /** Why the latest attempt failed; cleared by the next success. */
  error: ApiError | undefined
  /** True until the first answer (or failure) for the current key. */
  loading: boolean
  reload: () => void
}

interface Outcome<T> {
  key: string
  data?: T
  error?: ApiError
}

/**
 * Runs `load` whenever `key` changes (null: nothing to load yet), on `reload()`, and every
 * `refreshMs` while the tab is visible. Answers that arrive after the key changed are dropped.
 */
export function useLoader<T>(key: string | null, load: () => Promise<T>, refreshMs?: number): Loaded<T> {
  const [outcome, setOutcome] = useState<Outcome<T> | undefined>(undefined)
  const [attempt, setAttempt] = useState(0)
  const reload = useCallback(() => setAttempt((count) => count + 1), [])

  // `load` is a new function on every render: `key` names what it loads, and `attempt` asks again.
  useEffect(() => {
    if (key === null) return
    let current = true
    load().then(
      (data) => current && setOutcome({ key, data }),
      (error: unknown) => current && setOutcome({ key, error: asApiError(error) }),
    )
    return () => {
      current = false
    }
  }, [key, attempt])

  useEffect(() => {
    if (!refreshMs) return
    const timer = setInterval(() => {
      if (!document.hidden) reload()
    }, refreshMs)
    return () => clearInterval(timer)
  }, [refreshMs, reload])

  const settled = outcome !== undefined && outcome.key === key
  return {
    data: settled ? outcome.data : undefined,
    error: settled ? outcome.error : undefined,
    loading: key !== null && !settled,
    reload,
  }
}

/** GETs `/api<path>`. */
export function useApi<T>(path: string | null, refreshMs?: number): Loaded<T> {
  return useLoader<T>(path, () => api.get<T>(path ?? ''), refreshMs)
}

export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Cinema`
  }, [title])
}
