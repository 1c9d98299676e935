import { runService } from '@cinema/kit'
import { gatewayService } from './app.js'
import { loadGatewayConfig } from './config.js'

await runService(gatewayService, () => loadGatewayConfig())
