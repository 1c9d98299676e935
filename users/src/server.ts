import { runService } from '@cinema/kit'
import { usersService } from './app.js'

await runService(usersService)
