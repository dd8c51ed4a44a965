import t from 'tap'
import { makeApp, freshMobile, sendCode, startTestRedis } from './helpers/app.js'

// Standalone mode decides a send in one send.lua call: cooldown, limits, idempotency and the job.
// What Redis itself sees (MONITOR) holds the send path to that, whatever the code around it looks like.

const server = await startTestRedis(t)
const marker = server.client()
const monitor = await server.client().monitor()
t.teardown(() => monitor.disconnect())

/**
 * The commands clients sent while `request` ran, as MONITOR saw them (the commands a script
 * runs inside are left out: that is still one round trip). Redis feeds MONITOR in the order it
 * runs commands, so the ECHOs sent before and after the request fence off exactly its commands.
 */
async function commandsOf(request: () => Promise<{ statusCode: number }>, status: number): Promise<string[]> {
  const fence = String(Math.random())
  const seen: string[] = []
  let recording = false
  let ended!: () => void
  const endSeen = new Promise<void>((resolve) => { ended = resolve })
  let started!: () => void
  const startSeen = new Promise<void>((resolve) => { started = resolve })
  const onCommand = (_time: string, args: string[], source: string) => {
    const name = args[0]!.toLowerCase()
    if (name === 'echo' && args[1] === `start ${fence}`) { recording = true; started() }
    else if (name === 'echo' && args[1] === `end ${fence}`) { recording = false; ended() }
    else if (recording && source !== 'lua') seen.push(name)
  }
  monitor.on('monitor', onCommand)
  try {
    await marker.echo(`start ${fence}`)
    await startSeen
    const res = await request()
    if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}`)
    await marker.echo(`end ${fence}`)
    await endSeen
  } finally {
    monitor.off('monitor', onCommand)
  }
  return seen
}

t.test('standalone: a send is one EVALSHA and nothing else', async (t) => {
  const { app } = await makeApp(t, server)
  t.equal((await sendCode(app, { mobile: freshMobile(), purpose: 'register' })).statusCode, 202, 'warm-up send loads send.lua')

  t.same(await commandsOf(() => sendCode(app, { mobile: freshMobile(), purpose: 'register' }), 202), ['evalsha'], 'accepted')
  const mobile = freshMobile()
  await sendCode(app, { mobile, purpose: 'login' })
  t.same(await commandsOf(() => sendCode(app, { mobile, purpose: 'login' }), 429), ['evalsha'], 'refused too_frequent')
  const keyed = { 'idempotency-key': `key-${freshMobile()}` }
  const body = { mobile: freshMobile(), purpose: 'register' }
  t.same(await commandsOf(() => sendCode(app, body, keyed), 202), ['evalsha'], 'with an Idempotency-Key')
  t.same(await commandsOf(() => sendCode(app, body, keyed), 202), ['evalsha'], 'its replay')
})

t.test('standalone: the legacy route is one EVALSHA too', async (t) => {
  const { app } = await makeApp(t, server)
  const legacy = () => app.inject({ method: 'GET', url: `/sms_codes/${freshMobile()}/` })
  t.equal((await legacy()).statusCode, 200, 'warm-up send loads send.lua')
  t.same(await commandsOf(legacy, 200), ['evalsha'])
})
