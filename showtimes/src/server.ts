import { runService } from '@cinema/kit'
import { showtimesService } from './app.js'

await runService(showtimesService)
