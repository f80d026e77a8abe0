# syntax=docker/dockerfile:1
# Conveyor image: one image for every role (worker, scheduler, API, one-shot CLI commands).
# No build step: TypeScript runs through tsx, which is therefore a runtime dependency.
#
#   docker build -t conveyor .
#   docker run --rm -e REDIS_URL=redis://redis:6379 conveyor run iris-training --wait

ARG NODE_IMAGE=node:22-bookworm-slim

# --- deps: the full dependency tree, for the checks below ----------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# --- check: refuse to build an image whose pipelines do not load ---------------------------------
FROM deps AS check
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY pipelines ./pipelines
COPY workers ./workers
COPY scripts ./scripts
COPY data ./data
COPY types ./types
RUN node bin/conveyor.js validate pipelines && touch /app/.validated

# --- runtime: production dependencies only, non-root ---------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    CONVEYOR_PIPELINES=/app/pipelines \
    CONVEYOR_DATA_DIR=/app/.conveyor \
    CONVEYOR_METRICS_PORT=9464 \
    CONVEYOR_METRICS_HOST=0.0.0.0 \
    CONVEYOR_API_PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY pipelines ./pipelines
COPY workers ./workers
COPY scripts ./scripts
COPY data ./data
# Ties the runtime stage to the check stage, so BuildKit cannot skip the validation.
COPY --from=check /app/.validated ./.validated
# The `node` user (uid 1000) ships with the base image; it owns only the data dir.
RUN mkdir -p /app/.conveyor && chown node:node /app/.conveyor
USER node
# 9464: /metrics and /healthz of every process; 8080: API and UI (`serve`).
EXPOSE 9464 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.CONVEYOR_METRICS_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/conveyor.js"]
CMD ["worker"]
