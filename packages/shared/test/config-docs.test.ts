import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { configSchema } from '../src/index.js'

const run = promisify(execFile)
const root = new URL('../../../', import.meta.url)
const script = new URL('scripts/config-docs.mjs', root).pathname
const doc = new URL('docs/configuration.md', root).pathname

t.test('docs/configuration.md is the table generated from the config schema (run node scripts/config-docs.mjs)', async (t) => {
  const { stderr } = await run(process.execPath, [script, '--check']).catch((err: { stderr: string }) => ({ stderr: err.stderr }))
  t.equal(stderr, '', 'the committed table matches the schema')
  const text = readFileSync(doc, 'utf8')
  for (const name of Object.keys(configSchema.properties)) t.match(text, `| \`${name}\` |`, `${name} has a row`)
})

t.test('the check fails when a table drifts from the schema', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'config-docs-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const drifted = join(dir, 'configuration.md')
  writeFileSync(drifted, readFileSync(doc, 'utf8').replace('| `PORT` |', '| `PORTX` |'))
  const failed = await run(process.execPath, [script, '--check', drifted]).then(() => false, () => true)
  t.ok(failed, 'a changed row is reported')
})
