import { runService } from '@cinema/kit'
import { uiService } from './app.js'
import { loadUiConfig } from './config.js'

await runService(uiService, () => loadUiConfig())
