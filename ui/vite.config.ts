import preact from '@preact/preset-vite'
import { defaultClientConditions, defineConfig } from 'vite'
// By path, not '@cinema/kit/topology': Node loads this config, and the kit's dist/ may not be built yet.
import { localUrl } from '../kit/src/topology.js'

// `npm run dev -w ui` serves the app with hot reload and sends /api/ to a gateway on this machine.
const gatewayUrl = process.env.GATEWAY_URL ?? localUrl('gateway')

export default defineConfig({
  plugins: [preact()],
  // The kit's browser-safe modules (its topology, the contracts' types) are read from their source,
  // as the services read them under tsx: no kit build is needed first.
  resolve: { conditions: ['cinema-source', ...defaultClientConditions] },
  build: {
    // server/ compiles into dist/ beside this; nginx and the local server serve dist/public.
    outDir: 'dist/public',
    emptyOutDir: true,
    // The CSP allows only files from our origin: no data: URLs, no inline scripts.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: { '/api': { target: gatewayUrl, rewrite: (path) => path.replace(/^\/api/, '') } },
  },
})
