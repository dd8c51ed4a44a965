import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { pino, type DestinationStream } from 'pino'
import { censorLogObject, loggerOptions } from '../src/index.js'

// The censor is tested through a real pino logger with the services' options: what counts is
// the line that reaches stdout, not the censor's return value alone.

function capturingLogger() {
  const lines: string[] = []
  const stream: DestinationStream = { write: (line: string) => { lines.push(line) } }
  return { log: pino(loggerOptions('info', 'test'), stream), lines }
}

/** A line's own fields, without pino's (time, pid…), which hold digits of their own. */
function ownFields(line: string): string {
  const { level, time, pid, hostname, name, msg, ...rest } = JSON.parse(line) as Record<string, unknown>
  return JSON.stringify(rest)
}

// Noise holds no digit and no censored name, so any digit or marker on a line came from a secret;
// nor a name with a serializer of its own or one of pino's, which would change what it holds.
const letters = 'abcdefghijklmnopqrstuvwxyz_'.split('')
const RESERVED = new Set(['code', 'sealed', 'body', 'authorization', 'req', 'params', 'headers',
  'err', 'mobile', 'mobiles', 'url', 'level', 'time', 'pid', 'hostname', 'name', 'msg'])
const key = fc.string({ unit: fc.constantFrom(...letters), minLength: 1, maxLength: 6 }).filter((k) => !RESERVED.has(k))
const { noise } = fc.letrec<{ noise: unknown }>((tie) => ({
  noise: fc.oneof({ depthSize: 'small' },
    fc.string({ unit: fc.constantFrom(...letters), maxLength: 8 }), fc.boolean(), fc.constant(null),
    fc.array(tie('noise'), { maxLength: 3 }), fc.dictionary(key, tie('noise'), { maxKeys: 3 })),
}))
const noiseObject = fc.dictionary(key, noise, { maxKeys: 4 })

/** Where a secret goes: a key path, each step into an object or (`[]`) into an array. */
const path = fc.array(fc.oneof(key, fc.constant('[]')), { maxLength: 4 })
const secret = fc.oneof(
  fc.record({ name: fc.constant('code'), value: fc.oneof(fc.stringMatching(/^\d{4,10}$/), fc.nat()) }),
  fc.record({ name: fc.constant('sealed'), value: fc.constant('SEALEDMARK') }),
)

function nest(steps: readonly string[], leaf: Record<string, unknown>): Record<string, unknown> | unknown[] {
  let node: Record<string, unknown> | unknown[] = leaf
  for (const step of [...steps].reverse()) node = step === '[]' ? [node] : { [step]: node }
  return node
}

t.test('no code and no sealed code reaches a line, at any depth; nor through a child\'s bindings', async (t) => {
  const seed = Number(process.env.FC_SEED ?? Date.now())
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`)
  const out = fc.check(fc.property(noiseObject, path, secret, fc.boolean(), (base, steps, s, asBinding) => {
    const leaf = { [s.name]: s.value }
    const placed = steps.length === 0 ? leaf : nest(steps, leaf)
    const obj: Record<string, unknown> = Array.isArray(placed) ? { ...base, list: placed } : { ...base, ...placed }
    const before = structuredClone(obj)
    const { log, lines } = capturingLogger()
    // bindings are censored at the top level only (log-censor.ts, bindingsRedaction)
    if (asBinding) log.child({ ...base, ...leaf }).info('bound')
    else log.info(obj, 'logged')
    const fields = ownFields(lines[0]!)
    // untouched: the caller's object is the caller's
    return !/\d/.test(fields) && !fields.includes('SEALEDMARK') && JSON.stringify(obj) === JSON.stringify(before)
  }), { seed, numRuns: 1500 })
  t.notOk(out.failed, out.failed ? `counterexample ${fc.stringify(out.counterexample)} (seed ${out.seed}, path ${out.counterexamplePath})` : `held over ${out.numRuns} objects`)
})

t.test('an object with nothing to censor is passed on as it is: no copy, nothing lost', async (t) => {
  const seed = Number(process.env.FC_SEED ?? Date.now())
  t.comment(`fast-check seed ${seed} (rerun with FC_SEED=${seed})`)
  const out = fc.check(fc.property(noiseObject, (obj) => {
    const { log, lines } = capturingLogger()
    log.info(obj, 'logged')
    return censorLogObject(obj) === obj && ownFields(lines[0]!) === JSON.stringify(obj)
  }), { seed, numRuns: 500 })
  t.notOk(out.failed, out.failed ? `counterexample ${fc.stringify(out.counterexample)} (seed ${out.seed})` : `held over ${out.numRuns} objects`)
})

t.test('an error\'s own code survives, at the top and deeper; a digits-only one does not', async (t) => {
  const { log, lines } = capturingLogger()
  log.warn({ err: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), cause: { code: 'ERR_SOCKET' } }, 'outage')
  log.warn({ err: Object.assign(new Error('odd'), { code: 123456 }) }, 'numeric')
  const [outage, numeric] = lines.map((l) => JSON.parse(l) as Record<string, any>)
  t.equal(outage!.err.code, 'ECONNREFUSED')
  t.equal(outage!.cause.code, 'ERR_SOCKET')
  t.equal(numeric!.err.code, '[redacted]')
})

t.test('a rejection that is no Error is logged, not thrown over, and its mobiles are masked', async (t) => {
  const { log, lines } = capturingLogger()
  log.warn({ err: 'no route to +8613912345678' }, 'a string')
  log.warn({ err: [] }, 'an array')
  log.warn({ err: new Error('bad number 13912345678') }, 'an error')
  const [text, list, error] = lines.map((l) => JSON.parse(l) as Record<string, any>)
  t.equal(text!.err, 'no route to 139****5678')
  t.same(list!.err, {}, 'nothing to show, and the line is written')
  t.notOk(/13912345678/.test(lines.join('')), 'the stack repeats the message: masked too')
  t.match(error!.err.stack, /bad number 139\*{4}5678/)
})

t.test('bodies and credentials: on the line, in a logged request, and a route\'s wildcard parameter', async (t) => {
  const { log, lines } = capturingLogger()
  log.info({
    body: { mobile: 'x' }, authorization: 'Bearer abc',
    req: { method: 'POST', body: 'raw', headers: { authorization: 'Basic abc', accept: 'json' } },
    params: { 0: '13912345678', id: 'kept' }, nested: { body: 'kept', authorization: 'kept' },
  }, 'request')
  const line = JSON.parse(lines[0]!) as Record<string, any>
  t.same([line.body, line.authorization, line.req.body, line.req.headers.authorization, line.params[0]], Array(5).fill('[redacted]'))
  t.same([line.req.method, line.req.headers.accept, line.params.id], ['POST', 'json', 'kept'], 'what is not a secret stays')
  t.same(line.nested, { body: 'kept', authorization: 'kept' }, 'a body below the top is some other body, as before')
})

t.test('a key named like Object.prototype\'s members is plain data', async (t) => {
  const { log, lines } = capturingLogger()
  log.info({ constructor: 'c', toString: { code: '123456' }, hasOwnProperty: 1 }, 'odd keys')
  const line = new Map(Object.entries(JSON.parse(lines[0]!) as Record<string, unknown>))
  t.same([line.get('constructor'), line.get('toString'), line.get('hasOwnProperty')], ['c', { code: '[redacted]' }, 1])
})

t.test('no log call interpolates an object into its message, where only top-level names are censored', async (t) => {
  const root = fileURLToPath(new URL('../../../', import.meta.url))
  const sources = ['apps/api/src', 'apps/sender/src', 'apps/cli/src', 'packages/shared/src']
    .flatMap((dir) => readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(root, dir, f)))
  t.ok(sources.length > 50, `${sources.length} source files read`)
  const interpolating = /\.(?:trace|debug|info|warn|error|fatal)\([^\n]*['"`][^'"`\n]*%[oOj]/
  t.same(sources.filter((f) => interpolating.test(readFileSync(f, 'utf8'))), [])
})
