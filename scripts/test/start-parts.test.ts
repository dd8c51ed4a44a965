import t from 'tap'
import { Writable } from 'node:stream'
import { parseEnvFile } from '../start/env-file.mjs'
import { createLogView, logFormat } from '../start/log-view.mjs'

t.test('.env parsing: comments, export, quotes, later lines win', async (t) => {
  t.same(parseEnvFile([
    '# a comment', '', 'A=1', 'export B = two words ', "C='single # not a comment'", 'D="line\\nbreak"', 'E=x # trailing comment', 'A=3', 'not a line', '9BAD=x',
  ].join('\n')), { A: '3', B: 'two words', C: 'single # not a comment', D: 'line\nbreak', E: 'x' })
})

const sink = () => {
  let text = ''
  const stream = new Writable({ write(chunk, _enc, done) { text += chunk; done() } })
  return { stream, text: () => text }
}

t.test('pretty on a terminal, JSON in a pipe or in production, LOG_FORMAT overrides', async (t) => {
  t.equal(logFormat({}, { isTTY: true }), 'pretty')
  t.equal(logFormat({}, { isTTY: false }), 'json')
  t.equal(logFormat({ NODE_ENV: 'production' }, { isTTY: true }), 'json')
  t.equal(logFormat({ LOG_FORMAT: 'pretty' }, { isTTY: false }), 'pretty')
  t.equal(logFormat({ LOG_FORMAT: 'json' }, { isTTY: true }), 'json')
})

t.test('JSON mode: every line it writes is one JSON object', async (t) => {
  const out = sink()
  const err = sink()
  const view = createLogView({ format: 'json', color: false, out: out.stream, err: err.stream })
  const pinoLine = JSON.stringify({ level: 30, time: 1, name: 'api', msg: 'api listening' })
  view.child('api', pinoLine, false)
  view.child('redis', '1234:M 01 Dec 2026 * Ready to accept connections', false)
  view.child('api', '    at Server.listen (node:net:1)', true)
  view.say('stopped')
  view.ready({ api: 'http://127.0.0.1:8000', page: 'http://127.0.0.1:8080', metrics: 'http://127.0.0.1:9464/metrics', curl: 'curl …' })
  const lines = out.text().trim().split('\n')
  t.equal(lines[0], pinoLine, 'pino lines pass unchanged')
  for (const line of [...lines, ...err.text().trim().split('\n')]) t.doesNotThrow(() => JSON.parse(line), line)
  t.match(JSON.parse(lines[1]!), { name: 'redis', msg: /Ready to accept/ })
  t.match(JSON.parse(lines.at(-1)!), { name: 'start', msg: 'ready', docs: 'http://127.0.0.1:8000/docs', curl: 'curl …' })
})

t.test('pretty mode: the console code gets its own line; other fields follow the message', async (t) => {
  const out = sink()
  const view = createLogView({ format: 'pretty', color: false, out: out.stream, err: sink().stream })
  view.child('sender', JSON.stringify({ level: 30, time: 1, name: 'sender', provider: 'console', requestId: '0-abc', mobile: '138****5678', purpose: 'login',
    msg: 'sms (console provider): your login code is 042137, valid 5 minutes' }), false)
  view.child('api', JSON.stringify({ level: 30, time: 1, name: 'api', port: 8000, msg: 'api listening' }), false)
  const [code, listening] = out.text().trim().split('\n')
  t.match(code, /sender +SMS code 042137 +for 138\*{4}5678 \(login, valid 5 min, request 0-abc\)$/)
  t.match(listening, /api +info +api listening port=8000$/)
})
