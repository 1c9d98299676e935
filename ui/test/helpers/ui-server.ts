import { buildService, loadServiceConfig } from '@cinema/kit'
import { uiService } from '../../server/app.js'

/** The UI's local server (what `npm start` runs on 5004), in this process, on a free port. */
export async function startUiServer({ gatewayUrl, root }: { gatewayUrl: string; root: string }) {
  const app = await buildService(
    uiService,
    loadServiceConfig(uiService, { PORT: '0', GATEWAY_URL: gatewayUrl, UI_STATIC_DIR: root, LOG_LEVEL: 'silent' }),
  )
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  return { url: address, close: () => app.close() }
}
