import t from 'tap'
import { startRedis } from '../src/index.js'

t.test('stop() during a restart waits for it, so the restart never fails after the test', async (t) => {
  const server = await startRedis()
  await server.kill()
  // as a test does from a timer: restart without awaiting, then finish and tear down at once
  const restarted = server.start()
  await server.stop()
  await t.resolves(restarted, 'the restart settles without an error')
  const client = server.client()
  await t.rejects(client.ping(), 'and the server is gone afterwards')
  client.disconnect()
})
