import { runService } from '@cinema/kit'
import { uiService } from './app.js'

await runService(uiService)
