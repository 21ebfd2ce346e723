# The service's image: one image for every role (APP_ROLE=api|worker|all).
# docker build -t magic-hour-webhooks .

# Build: every dependency, then the TypeScript build to dist/.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.types.json ormconfig.ts ./
COPY src ./src
RUN npm run build

# Runtime: production dependencies and the built output only, run as the unprivileged `node` user.
FROM node:20-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The console's templates and stylesheet, read at run time from the package root.
COPY views ./views
COPY public ./public
# Where DOWNLOAD_DIR can point (mount a volume there); owned by `node` so the download handler can write.
RUN mkdir -p /data/downloads && chown node:node /data/downloads
USER node
EXPOSE 3000
# /health answers 503 only when Postgres is down (a Redis outage leaves intake working).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--heap-growing-percent=50", "dist/src/main.js"]
