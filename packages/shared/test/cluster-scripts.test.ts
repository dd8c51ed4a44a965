import t from 'tap'
import { startRedisCluster } from '@sms-verify/testing'
import { createRedis, defineSendScript, keys, loadConfig, configSchema, partition, partitionCount, partitionIndexOf, sendScript, sendSettingsOf, type E164 } from '../src/index.js'

t.test('send.lua runs on one slot per mobile in a real cluster, partitions spread over masters', async (t) => {
  const cluster = await startRedisCluster()
  t.teardown(() => cluster.stop())
  const config = loadConfig(configSchema, { REDIS_CLUSTER_NODES: cluster.seeds })
  const redis = createRedis(config)
  t.teardown(() => redis.disconnect())
  const count = partitionCount(config)
  const settings = sendSettingsOf(config)
  const send = defineSendScript([redis], settings)
  const now = Date.now()
  const mobiles = Array.from({ length: 64 }, (_, i) => `+86138${String(i).padStart(8, '0')}` as E164)
  const replies = await Promise.all(mobiles.map((m) => {
    const p = partition(partitionIndexOf(m, count), count, true)
    const k = keys(p)
    const id = `${p.index}-${m.slice(-16).padStart(16, 'x')}`
    return send(redis,
      sendScript.keys({ number: k.number(m), request: k.request(id), stream: k.jobs, idempotency: k.idempotency('-') }),
      sendScript.args(settings, { now, requestId: id, mobile: m, purpose: 'login', codeHmac: 'hmac', idempotencyFingerprint: '', testNumber: false,
        client: '1.2.3.4', jobCode: { code: '123456' } })) as Promise<string[]>
  }))
  t.ok(replies.every((r) => r[0] === 'ok'), 'every send accepted')
  const streams = new Set(mobiles.map((m) => partition(partitionIndexOf(m, count), count, true).stream))
  const owners = new Set(await Promise.all([...streams].map((s) => cluster.masterOf(s))))
  t.ok(owners.size >= 2, `streams live on ${owners.size} masters`)
})
