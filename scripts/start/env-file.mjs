// `.env` for `pnpm start`: KEY=value lines, `#` comments, optional `export `,
// single or double quotes. Only start.mjs reads it; the processes themselves
// read their environment alone (the contract), which start.mjs hands them.
import { existsSync, readFileSync } from 'node:fs'

/** The variables a .env text sets; later lines win, like a shell. */
export function parseEnvFile(text) {
  const vars = {}
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line)
    if (!m) continue
    let value = m[2]
    const quoted = /^(['"])(.*)\1$/.exec(value)
    if (quoted) value = quoted[1] === '"' ? quoted[2].replace(/\\n/g, '\n') : quoted[2]
    else value = value.replace(/\s+#.*$/, '')
    vars[m[1]] = value
  }
  return vars
}

/** Adds a .env file's variables to `env` where `env` does not already set them; returns the names it added. */
export function applyEnvFile(path, env) {
  if (!existsSync(path)) return []
  const added = []
  for (const [name, value] of Object.entries(parseEnvFile(readFileSync(path, 'utf8')))) {
    if (env[name] !== undefined) continue
    env[name] = value
    added.push(name)
  }
  return added
}
