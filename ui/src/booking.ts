// Booking and cancelling, shared by the showtimes page and a user's bookings page.
import { api, explain } from './api'
import { formatShowDate } from './format'

function bookingPath(username: string, date: string, movieId: string): string {
  return `/bookings/${encodeURIComponent(username)}/${date}/${encodeURIComponent(movieId)}`
}

/** Books a movie for a user on a date; resolves to false when the user already had that booking. */
export async function bookMovie(username: string, date: string, movieId: string): Promise<boolean> {
  const { status } = await api.put(bookingPath(username, date, movieId))
  return status === 201
}

export function cancelBooking(username: string, date: string, movieId: string): Promise<void> {
  return api.delete(bookingPath(username, date, movieId))
}

export function explainBookingFailure(error: unknown, who: string, title: string, date: string): string {
  return explain(error, {
    404: `There is no user called “${who}” any more.`,
    422: `${title} is not playing on ${formatShowDate(date)}. Pick another date.`,
  })
}

export function explainCancelFailure(error: unknown, title: string, date: string): string {
  return explain(error, { 404: `${title} on ${formatShowDate(date)} was already cancelled.` })
}
