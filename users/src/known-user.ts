import { HttpError } from '@cinema/kit'
import type { UserRepository } from './repository.js'

/**
 * Looks the user up in parallel with `lookups` (peer calls); an unknown user is a 404 whatever
 * the peers answered, otherwise a peer failure is the answer.
 */
export async function forKnownUser<T>(
  users: Pick<UserRepository, 'byId'>,
  username: string,
  lookups: Promise<T>,
): Promise<T> {
  const [user, result] = await Promise.allSettled([users.byId(username), lookups])
  if (user.status === 'rejected') throw user.reason
  if (!user.value) throw new HttpError(404, `user ${username} not found`, { code: 'USER_NOT_FOUND' })
  if (result.status === 'rejected') throw result.reason
  return result.value
}
