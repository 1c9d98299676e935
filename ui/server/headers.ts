// The same policy as nginx/default.conf.template, so `npm start` behaves as the container does.

/**
 * Everything comes from this origin: the built HTML has no inline script or style (styles the app
 * sets at run time go through the CSSOM, which CSP allows), and no page may frame the UI.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

export const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
} as const

/**
 * Vite puts a content hash in every file name under /assets/, so a file there never changes:
 * `Cache-Control: public, max-age=31536000, immutable`, set only when the file exists.
 */
export const HASHED_ASSET_CACHING = { maxAge: '365d', immutable: true }
/** index.html names the current hashed assets, so browsers must check it on every load. */
export const PAGE_CACHE_CONTROL = 'no-cache'
