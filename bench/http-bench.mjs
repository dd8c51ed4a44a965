// One round of the HTTP part: each server in turn on an emptied Redis, warmed up, then
// loaded while its CPU (the process tree's, from /proc) and Redis's (INFO) are counted.
// The real API serves its verify load right after its send load, on the codes that load made.
import { startCounting } from './cpu.mjs'
import { load, nextMobile, withServer } from './http.mjs'
import { CODE_PEPPER, JOB_SEAL_KEY, apiVerify, sendPeers, verifyReference } from './http-peers.mjs'
import { queuedCodes, seedReferenceCodes } from './verify-codes.mjs'

const sealKey = Buffer.from(JOB_SEAL_KEY, 'base64')
/** a verify load runs through the codes it has; this bounds its length on a fast machine */
const MAX_VERIFY_CODES = 300_000

/** Loads a started server and counts its CPU: the figures of one server in one round. */
async function measured(server, admin, loadOptions) {
  const counting = await startCounting(server.pid, [admin])
  const figures = await load(loadOptions)
  return { ...figures, ...(await counting.stop(figures.accepted)) }
}

/** a tenth of the codes, at most 5,000, warm a verify route up; autocannon wants one request per connection at least */
const warmCount = (codes) => Math.max(64, Math.min(5_000, Math.floor(codes / 10)))

/** A verify load over `codes`: the first `warm` warm the route up, the rest are measured. */
async function verifyLoad(server, admin, port, path, codes, warm) {
  if (codes.length < warm + 64) throw new Error(`bench: only ${codes.length} codes to verify; give the send load more time (BENCH_SECONDS)`)
  let next = 0
  const body = () => codes[next++ % codes.length]
  await load({ port, path, body, amount: warm })
  const figures = await measured(server, admin, { port, path, body, amount: codes.length - warm })
  if (next < codes.length) throw new Error(`bench: verify load sent ${next} of ${codes.length} codes`)
  return { ...figures, codes: codes.length - warm, warm }
}

export async function httpRound({ redisUrl, admin, seconds, warmSeconds }) {
  const send = {}
  const verify = {}
  for (const peer of sendPeers) {
    send[peer.id] = await withServer(peer, redisUrl, admin, async (server, port) => {
      const options = { port, path: peer.path, body: () => peer.body(nextMobile(peer.prefix)) }
      await load({ ...options, seconds: warmSeconds })
      const figures = await measured(server, admin, { ...options, seconds })
      if (peer.id === 'api') {
        const codes = await queuedCodes(admin, sealKey, MAX_VERIFY_CODES)
        verify.api = await verifyLoad(server, admin, port, apiVerify.path, codes, warmCount(codes.length))
      }
      return figures
    })
  }
  // The reference verifies as many codes as the API did, so both loads are the same length.
  verify.reference = await withServer(verifyReference, redisUrl, admin, async (server, port) => {
    const { codes: measuredCodes, warm } = verify.api
    const mobiles = Array.from({ length: warm + measuredCodes }, () => nextMobile(verifyReference.prefix))
    const codes = await seedReferenceCodes(admin, CODE_PEPPER, mobiles)
    return verifyLoad(server, admin, port, verifyReference.path, codes, warm)
  })
  return { send, verify }
}
