import { runService } from '@cinema/kit'
import { bookingsService } from './app.js'

await runService(bookingsService)
