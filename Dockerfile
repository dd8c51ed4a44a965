# syntax=docker/dockerfile:1
# One image for every process: the API (default), the sender, the CLI and the sign-up page
# differ only in their command. Build: docker build -t sms-verify .
# The runtime holds production dependencies only (scripts/deploy-prod.sh; CI runs the same
# step and checks the list and that the processes start: scripts/test/image.test.ts).

FROM node:20-slim AS build
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH CI=true
RUN npm install -g pnpm@10.34.9 && pnpm --version
WORKDIR /src
# Manifests first, so the dependency layer is cached until the lockfile changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc tsconfig.json tsconfig.base.json ./
COPY packages/shared/package.json packages/shared/
COPY packages/testing/package.json packages/testing/
COPY apps/api/package.json apps/api/
COPY apps/sender/package.json apps/sender/
COPY apps/cli/package.json apps/cli/
RUN pnpm install --frozen-lockfile
COPY . .
RUN pnpm build && sh scripts/deploy-prod.sh /app

FROM node:20-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
# Files owned by root, process run as the image's unprivileged `node` user: the code cannot rewrite itself.
COPY --from=build --chown=root:root /app /app
COPY --from=build --chown=root:root /src/LICENSE /app/
USER node
EXPOSE 8000 9464 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "apps/api/dist/main.js"]
