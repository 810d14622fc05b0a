# flarewatch image: compiled JavaScript on Node 24 (LTS), run as the unprivileged `node` user.
# The runtime stage has production dependencies only: no TypeScript, no tsx, no embedded
# PostgreSQL (both are optionalDependencies), so DATABASE_URL is required.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
ENV NODE_ENV=production
# The ops server listens on loopback by default (a local `start`); in a container it must answer
# the runtime's probes and Prometheus on the container's own address.
ENV FLAREWATCH_HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json LICENSE ./
COPY bin ./bin
COPY migrations ./migrations
# Custom SQL rules: the default FLAREWATCH_RULES_DIR (./rules); mount your own over it.
COPY rules ./rules
USER node
# /healthz, /readyz, /metrics (and /queues when FLAREWATCH_QUEUE_UI=true) of the daemon commands.
EXPOSE 9464
# For the daemon (start, worker, scheduler); a one-shot `run` has no ops server, and its exit code is its health.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.FLAREWATCH_HTTP_PORT || 9464) + '/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/flarewatch.mjs"]
CMD ["run"]
