#!/bin/sh
# The runtime's files: each process with its production dependencies only
# (no typescript, tap, playwright-core, bullmq, autocannon, @types/*), in the
# layout the README's commands use: node apps/api/dist/main.js and so on.
# Run after `pnpm install --frozen-lockfile && pnpm build`, from the repository root:
#   sh scripts/deploy-prod.sh /app
# The Dockerfile runs it, and scripts/test/image.test.ts runs it in CI.
set -eu
out="$1"
for app in api sender cli; do
  # pnpm 10's deploy reads the workspace lockfile only with injected workspace
  # packages; the flag is given here, not in pnpm-workspace.yaml, so local
  # installs keep symlinked workspace packages. --offline: the install before
  # has filled the store, so no registry is asked.
  pnpm --config.inject-workspace-packages=true --filter "@sms-verify/$app" deploy --prod --offline "$out/apps/$app" >/dev/null
  rm -f "$out/apps/$app/pnpm-lock.yaml"
done
mkdir -p "$out/apps/web"
cp -R apps/web/serve.mjs apps/web/public "$out/apps/web/"
