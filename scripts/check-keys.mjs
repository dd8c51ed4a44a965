// pnpm lint: every Redis key is spelled in packages/shared/src/keys.ts and nowhere else in
// product code (tests may spell keys: they check what redis-cli would show an operator).
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const KEYS_FILE = 'packages/shared/src/keys.ts'
const SOURCE_DIRS = ['apps/api/src', 'apps/sender/src', 'apps/cli/src', 'packages/shared/src', 'packages/shared/lua', 'apps/web/public', 'scripts']
// a string literal that starts like one of our keys: 'sms:…', "sms:…", `sms:…`
const KEY_LITERAL = /['"`]sms:[\w{$]/

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* files(path)
    else if (/\.(ts|mjs|js|lua)$/.test(name)) yield path
  }
}

const offences = []
for (const dir of SOURCE_DIRS) {
  for (const path of files(join(root, dir))) {
    const rel = relative(root, path)
    if (rel === KEYS_FILE || rel === 'scripts/check-keys.mjs') continue
    readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
      if (KEY_LITERAL.test(line)) offences.push(`${rel}:${i + 1}: ${line.trim()}`)
    })
  }
}
if (offences.length > 0) {
  console.error(`Redis keys spelled outside ${KEYS_FILE}:\n${offences.join('\n')}`)
  process.exit(1)
}
console.log(`keys: every Redis key is spelled in ${KEYS_FILE} only`)
