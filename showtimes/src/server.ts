import { runService } from '@cinema/kit'
import { showtimesService } from './app.js'
import { loadShowtimesConfig } from './config.js'

await runService(showtimesService, () => loadShowtimesConfig())
