import { runService } from '@cinema/kit'
import { usersService } from './app.js'
import { loadUsersConfig } from './config.js'

await runService(usersService, () => loadUsersConfig())
