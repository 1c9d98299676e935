import { runService } from '@cinema/kit'
import { gatewayService } from './app.js'

await runService(gatewayService)
