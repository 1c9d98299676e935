// Dates and numbers as people read them. The page is in English, so dates are too; an English
// browser locale (en-GB, en-US…) still picks the day/month order people are used to.
const locale = typeof navigator !== 'undefined' && navigator.language.startsWith('en') ? navigator.language : 'en'

// Show dates are calendar days without a time zone: format them in UTC so no one sees the day before.
const showDateFormat = new Intl.DateTimeFormat(locale, {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  timeZone: 'UTC',
})
const shortShowDateFormat = new Intl.DateTimeFormat(locale, {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  timeZone: 'UTC',
})
const momentFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' })
const clockFormat = new Intl.DateTimeFormat(locale, { timeStyle: 'medium' })

/** `20151205` → a Date at midnight UTC. */
function showDay(date: string): Date {
  return new Date(Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8))))
}

/** `20151205` → `2015-12-05`, for `<time datetime>`. */
export function isoShowDate(date: string): string {
  return `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`
}

/** `20151205` → "Sat, Dec 5, 2015" (in en-US). */
export function formatShowDate(date: string): string {
  return showDateFormat.format(showDay(date))
}

/** `20151205` → "Sat, Dec 5" (in en-US), for compact lists of dates. */
export function formatShortShowDate(date: string): string {
  return shortShowDateFormat.format(showDay(date))
}

/** Unix seconds → "Feb 5, 2013, 2:23 AM" (in en-US), in the reader's time zone. */
export function formatMoment(unixSeconds: number): string {
  return momentFormat.format(new Date(unixSeconds * 1000))
}

export function formatClock(date: Date): string {
  return clockFormat.format(date)
}

export function formatRating(rating: number): string {
  return rating.toFixed(1)
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`
}
