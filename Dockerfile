# syntax=docker/dockerfile:1
# crosstalk: one image for the sidecar (`proxy`, the default), the simulated router and the audit.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: compile TypeScript with the dev dependencies ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies and dist/ only, as the unprivileged `node` user ---
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
# 8080 proxy, 9464 admin (/healthz /readyz /metrics), 8081 simulated router
EXPOSE 8080 9464 8081
# Node flags: src/proxy/node-flags.ts (young generation sized for per-request objects).
ENTRYPOINT ["node", "--max-semi-space-size=32", "--no-allocation-site-pretenuring", "dist/cli.js"]
CMD ["proxy"]
