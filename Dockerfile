# Every Cinema image, from this one file.
#   docker build --build-arg SERVICE=movies -t cinema/movies .   a Node.js service (the default target):
#                                                                 users, movies, showtimes, bookings, gateway
#   docker build --target ui -t cinema/ui .                      the web app on nginx
# compose.yaml builds all six.
#
# manifests  the npm workspace's manifests and lockfile, the start of every other stage
# build      every workspace's dependencies (one layer, the same for all five services), then the
#            sources of the kit and of SERVICE, compiled by tsc into <workspace>/dist
# ui-build   the UI's dependencies only, then the web app built by Vite into ui/dist/public
# ui         nginx with the UI's template and the built web app
# runtime    production dependencies of the kit and SERVICE only (no PGlite: containers always have
#            a PostgreSQL server), the compiled JavaScript, data/ and SQL migrations; runs as `node`

ARG NODE_IMAGE=node:24-trixie-slim

# The npm workspace's manifests, copied first by every stage that installs, so their dependency
# layers are reused until a manifest or the lockfile changes. npm needs every workspace's manifest
# to honour the lockfile: list a new workspace here too.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY kit/package.json kit/
COPY users/package.json users/
COPY movies/package.json movies/
COPY showtimes/package.json showtimes/
COPY bookings/package.json bookings/
COPY gateway/package.json gateway/
COPY ui/package.json ui/

FROM manifests AS build
# No install scripts are needed to compile; the optional PGlite is, for its type declarations.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund --no-update-notifier
ARG SERVICE
RUN test -n "$SERVICE" || { echo "build with --build-arg SERVICE=<users|movies|showtimes|bookings|gateway>" >&2; exit 1; }
COPY tsconfig.base.json ./
COPY kit/tsconfig.json kit/
COPY kit/src kit/src
COPY ${SERVICE}/ ${SERVICE}/
# tsc -b builds the kit first (a project reference). /out is the runtime's tree: compiled
# JavaScript without declarations or source maps, and the migrations of a service that has them.
RUN node_modules/.bin/tsc -b "$SERVICE" \
 && mkdir -p "/out/kit" "/out/$SERVICE" \
 && cp -r kit/dist "/out/kit/dist" \
 && cp -r "$SERVICE/dist" "/out/$SERVICE/dist" \
 && if [ -d "$SERVICE/migrations" ]; then cp -r "$SERVICE/migrations" "/out/$SERVICE/migrations"; fi \
 && find /out -type f \( -name '*.d.ts' -o -name '*.map' -o -name '*.tsbuildinfo' \) -delete


FROM manifests AS ui-build
# The UI workspace's packages only (Vite and the web app's).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --workspace ui --no-audit --no-fund --no-update-notifier
# Vite reads ui/tsconfig.json, which extends the shared base.
COPY tsconfig.base.json ./
# The web app imports the kit's browser-safe modules (topology, contracts' types) from their source.
COPY kit/src kit/src
COPY ui/ ui/
RUN npm run build --workspace ui


FROM nginx:1.28-trixie AS ui
# The template's settings (see its header). Compose may override them.
ENV GATEWAY_URL=http://gateway:8080 \
    GATEWAY_RESOLVER=127.0.0.11
RUN rm -rf /usr/share/nginx/html/*
COPY ui/nginx/default.conf.template /etc/nginx/templates/default.conf.template
COPY --from=ui-build /app/ui/dist/public /usr/share/nginx/html
# An unprivileged port: nginx needs no capability (nor a sysctl) to listen as a non-root user.
EXPOSE 8080
# OCI labels, last so that a new version reuses every layer above (build arguments as below).
ARG VERSION
ARG REVISION
LABEL org.opencontainers.image.title="cinema/ui" \
      org.opencontainers.image.description="Cinema: the web UI" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT"


# Last, so a build without --target makes a service image.
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE
WORKDIR /app
COPY --from=manifests /app/ ./
# Production dependencies of the kit and this service only, then what no running process reads:
# PGlite (containers always have a PostgreSQL server) and pino-pretty, type declarations, source maps, Markdown,
# and each package's own tests, docs and examples (licence files stay). Optional dependencies are
# installed: the argon2 binding's native build for this platform is one (users hashes passwords
# with it). Owned by root, so the service cannot change its own code.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund --no-update-notifier \
      --workspace kit --workspace "$SERVICE" \
 && rm -rf node_modules/@electric-sql/pglite node_modules/pino-pretty \
 && find node_modules "$SERVICE" -depth -regextype posix-extended \
      \( -type d -regex '.*/node_modules/(@[^/]+/)?[^/]+/(test|tests|__tests__|docs|doc|example|examples|benchmark|benchmarks|bench|\.github)' \
         -exec rm -rf {} + \) \
      -o \( -type f -regex '.*/node_modules/.*\.(d\.ts|d\.mts|d\.cts|map|md|markdown)' \
         ! -iname 'licen[cs]e*' -delete \)
COPY data/ data/
COPY docker/healthcheck.mjs docker/
COPY --from=build /out/ ./
ENV NODE_ENV=production \
    HOST=0.0.0.0
USER node
# The service finds data/ and its migrations from its own file's location, not from the working
# directory. Exec form: node is PID 1 and gets SIGTERM itself (close-with-grace drains, then exits).
WORKDIR /app/${SERVICE}
# --max-semi-space-size=4: a 4 MB young generation, as `npm start` runs them (scripts/services.mjs).
CMD ["node", "--max-semi-space-size=4", "dist/server.js"]
# OCI labels, last so that a new version reuses every layer above:
#   --build-arg VERSION=<package.json version> --build-arg REVISION=$(git rev-parse HEAD)
ARG VERSION
ARG REVISION
LABEL org.opencontainers.image.title="cinema/${SERVICE}" \
      org.opencontainers.image.description="Cinema: the ${SERVICE} service" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT"
