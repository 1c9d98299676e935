import { runService } from '@cinema/kit'
import { moviesService } from './app.js'
import { loadMoviesConfig } from './config.js'

await runService(moviesService, () => loadMoviesConfig())
