# syntax=docker/dockerfile:1
# One image for every process: the API (default), the sender and the sign-up page
# differ only in their command. Build: docker build -t sms-verify .

FROM node:20-slim AS build
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true
RUN npm install -g pnpm@10 && pnpm --version
WORKDIR /app
# Manifests first, so the dependency layer is cached until the lockfile changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc tsconfig.json tsconfig.base.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/testing/package.json packages/testing/
COPY apps/api/package.json apps/api/
COPY apps/sender/package.json apps/sender/
COPY apps/cli/package.json apps/cli/
RUN pnpm install --frozen-lockfile
COPY . .
RUN pnpm build
# Drop dev dependencies in place; the workspace layout stays, so commands read like the README.
RUN pnpm install --prod --frozen-lockfile --offline

FROM node:20-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/packages/shared/package.json packages/shared/
COPY --from=build --chown=root:root /app/packages/shared/dist packages/shared/dist
COPY --from=build --chown=root:root /app/packages/shared/lua packages/shared/lua
COPY --from=build --chown=root:root /app/packages/shared/node_modules packages/shared/node_modules
COPY --from=build --chown=root:root /app/apps/api/package.json apps/api/
COPY --from=build --chown=root:root /app/apps/api/dist apps/api/dist
COPY --from=build --chown=root:root /app/apps/api/node_modules apps/api/node_modules
COPY --from=build --chown=root:root /app/apps/sender/package.json apps/sender/
COPY --from=build --chown=root:root /app/apps/sender/dist apps/sender/dist
COPY --from=build --chown=root:root /app/apps/sender/node_modules apps/sender/node_modules
COPY --from=build --chown=root:root /app/apps/cli/package.json apps/cli/
COPY --from=build --chown=root:root /app/apps/cli/dist apps/cli/dist
COPY --from=build --chown=root:root /app/apps/cli/lua apps/cli/lua
COPY --from=build --chown=root:root /app/apps/cli/node_modules apps/cli/node_modules
COPY --from=build --chown=root:root /app/apps/web/serve.mjs apps/web/
COPY --from=build --chown=root:root /app/apps/web/public apps/web/public
# Files owned by root, process run as the image's unprivileged `node` user: the code cannot rewrite itself.
USER node
EXPOSE 8000 9464 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "apps/api/dist/main.js"]
