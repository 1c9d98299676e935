import { fileURLToPath } from 'node:url'
import { EdgeConnectionSettings, peerUrl, SERVICES, serviceConfigSchema } from '@cinema/kit'
import { type Static, Type } from 'typebox'

export const UiConfig = serviceConfigSchema(SERVICES.ui.port, {
  GATEWAY_URL: peerUrl('gateway'),
  // The UI server is the edge under `npm start`: one client holds a few connections at most.
  ...EdgeConnectionSettings,
  UI_STATIC_DIR: Type.String({
    // server.js is compiled to ui/dist/, beside the web app that Vite builds into ui/dist/public/.
    default: fileURLToPath(new URL('./public', import.meta.url)),
    description: 'the built web app (output of `npm run build -w ui`)',
  }),
})
export type UiConfig = Static<typeof UiConfig>
