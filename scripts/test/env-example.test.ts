import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { configSchema } from '@sms-verify/shared'
import { repoRoot } from '@sms-verify/testing'

// Read by apps/web/serve.mjs (and set by `pnpm start`), not by the config schema.
const PAGE_VARIABLES = ['WEB_HOST', 'WEB_PORT', 'WEB_API_URL']

const text = readFileSync(join(repoRoot, '.env.example'), 'utf8')
/** `NAME=value` or `# NAME=value`: the variables the file documents. */
const documented = [...text.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!)
const schemaNames = Object.keys(configSchema.properties)

t.test('.env.example names every variable of the config schema', async (t) => {
  const missing = schemaNames.filter((name) => !documented.includes(name))
  t.same(missing, [], `add these to .env.example, in their group with a comment: ${missing.join(', ')}`)
})

t.test('.env.example names nothing the processes do not read, and each only once', async (t) => {
  const unknown = documented.filter((name) => !schemaNames.includes(name) && !PAGE_VARIABLES.includes(name))
  t.same(unknown, [], 'a variable no process reads (a typo, or one that was removed)')
  t.same(documented.filter((name, i) => documented.indexOf(name) !== i), [], 'listed twice')
})

t.test('every secret says how to make it, and the file sets nothing by itself', async (t) => {
  for (const secret of ['CODE_PEPPER', 'JOB_SEAL_KEY', 'ADMIN_TOKEN', 'CALLBACK_TOKEN']) {
    t.match(text, new RegExp(`openssl rand[^\\n]*\\n# ${secret}=`), `${secret} comes with its openssl command`)
  }
  t.same(text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')), [], 'every line is a comment')
})
