import { runService } from '@cinema/kit'
import { bookingsService } from './app.js'
import { loadBookingsConfig } from './config.js'

await runService(bookingsService, () => loadBookingsConfig())
