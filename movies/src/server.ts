import { runService } from '@cinema/kit'
import { moviesService } from './app.js'

await runService(moviesService)
