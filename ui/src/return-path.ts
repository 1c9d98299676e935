// Where signing in leads back to. The sign-in page takes `?next=<path>` from its URL, which anyone
// can write into a link: only a path on this site is followed, never another site's address.

export const SIGN_IN_PATH = '/sign-in'
export const SIGN_UP_PATH = '/sign-up'

const isSignInPage = (pathname: string) => pathname === SIGN_IN_PATH || pathname === SIGN_UP_PATH

/**
 * `next` when it is a path on this site (`/…`, not `//…` or `/\…`, which browsers read as another
 * host), else the home page. The sign-in and sign-up pages lead home too: back to the form just
 * filled in would look as if signing in had failed.
 */
export function safeNextPath(next: string | null | undefined, origin: string): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/'
  // Resolved as the browser will resolve it: it drops tabs and line breaks, so `/\t/evil.example`
  // is `//evil.example`, and that must name this origin still.
  let url: URL
  try {
    url = new URL(next, origin)
  } catch {
    return '/'
  }
  // `/..//evil.example` resolves to the path `//evil.example`, which as a link names another host.
  if (url.origin !== new URL(origin).origin || url.pathname.startsWith('//') || isSignInPage(url.pathname)) return '/'
  return `${url.pathname}${url.search}${url.hash}`
}

/** A page's sign-in or sign-up link that comes back to `here` (its path and query) afterwards. */
export function returningHref(page: typeof SIGN_IN_PATH | typeof SIGN_UP_PATH, here: string): string {
  const pathname = here.split(/[?#]/, 1)[0] ?? ''
  if (here === '/' || isSignInPage(pathname)) return page
  return `${page}?next=${encodeURIComponent(here)}`
}

/**
 * Where a call answered 401 (no session, or one that has ended) sends the page: to sign in, then
 * back here. Nowhere while the sign-in or sign-up page is showing: it is where a person signs in.
 */
export function signInRedirect(location: { pathname: string; search: string }): string | undefined {
  if (isSignInPage(location.pathname)) return undefined
  return returningHref(SIGN_IN_PATH, `${location.pathname}${location.search}`)
}
