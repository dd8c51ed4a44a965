#!/usr/bin/env node
import { run } from './cli.js'

const code = await run(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
})
// Let stdout drain before leaving: a piped `--json` answer must arrive whole.
process.stdout.write('', () => process.exit(code))
