import type { Purpose } from './purpose.js'
import type { E164 } from './mobile.js'

/**
 * The only file that spells a Redis key. Every key that a send or a verify
 * touches for one mobile carries its partition's hash tag `{p}`, so each
 * request is one script on one Redis Cluster slot.
 */
export const GROUP = 'senders'
export const STREAM_PREFIX = 'sms:jobs'

export interface Partition {
  readonly index: number
  /** the hash tag, without braces */
  readonly tag: string
  readonly stream: string
  readonly deadStream: string
}

/**
 * Standalone with one partition keeps the plain names `sms:jobs` and
 * `sms:jobs:dead`; otherwise `sms:jobs:{p}` and `sms:jobs:dead:{p}`.
 */
export function partition(index: number, count: number, cluster: boolean): Partition {
  const plain = count === 1 && !cluster
  return {
    index,
    tag: String(index),
    stream: plain ? STREAM_PREFIX : `${STREAM_PREFIX}:{${index}}`,
    deadStream: plain ? `${STREAM_PREFIX}:dead` : `${STREAM_PREFIX}:dead:{${index}}`,
  }
}

export function allPartitions(count: number, cluster: boolean): Partition[] {
  return Array.from({ length: count }, (_, i) => partition(i, count, cluster))
}

/** Keys that belong to one partition. */
export const keys = (p: Partition) => {
  const base = `sms:{${p.tag}}`
  return {
    jobs: p.stream,
    dead: p.deadStream,
    /**
     * hash of everything kept per number, across purposes, living for the daily window:
     * numberFields names its fields (lua/lib/number-fields.lua spells them for the scripts)
     */
    number: (m: E164) => `${base}:num:${m}`,
    /** the times of one client's wrong verify tries on this number in the last 24 h, comma-joined (client: client-key.ts, an IP or an IPv6 /64, never free text) */
    clientVerifyFailures: (m: E164, client: string) => `${base}:vfail:${m}:${client}`,
    /** hash: a request's status record */
    request: (requestId: string) => `${base}:req:${requestId}`,
    /** the status key prefix, for scripts that learn a request id only from a code key (same slot) */
    requestPrefix: `${base}:req:`,
    /** stored answer for an Idempotency-Key (hashed) */
    idempotency: (keyHash: string) => `${base}:idem:${keyHash}`,
    /** provider message id (Tencent SerialNo) → requestId, for delivery receipts */
    serial: (provider: string, messageId: string) => `${base}:serial:${provider}:${messageId}`,
    /** sorted set of jobs waiting for a retry: score = due time, member = encoded job */
    retries: `${base}:retries`,
    /** jobs a provider accepted in one SENT_BUCKET_MS bucket (sentBucketOf), for `pnpm sms stats` */
    sentCounter: (bucket: number) => `${base}:sent:${bucket}`,
    /**
     * per-job send marker with a lease (jobIdOf: a code job goes by its request id, each part of a
     * bulk request by its own): while set, no other sender calls a provider for that job; 'done' once it ended
     */
    lease: (jobId: string) => `${base}:lease:${jobId}`,
    /**
     * hash: the record of one part of a bulk request (attempts, carrier entryId, end), apart from
     * its request's; a code job's record is its request's (request(requestId))
     */
    job: (jobId: string) => `${base}:job:${jobId}`,
    /** the job record prefix, for promote.lua, which learns a job id only from the entry (same slot) */
    jobPrefix: `${base}:job:`,
  }
}
export type PartitionKeys = ReturnType<typeof keys>

/**
 * The fields of a number's hash (keys.number), as lua/lib/number-fields.lua spells them for
 * send.lua, verify.lua and dead-letter.lua; for tests and operators (`HGETALL sms:{p}:num:+86…`).
 */
export const numberFields = {
  /** epoch ms until which the carrier refuses this number (a frequency-limit dead letter) */
  carrierUntil: 'carrierUntil',
  /** the times (epoch ms) of accepted sends inside the daily window, comma-joined, oldest first */
  sends: 'sends',
  /** epoch ms when this purpose's resend cooldown ends */
  resendAt: (purpose: Purpose) => `${purpose}:resendAt`,
  /** this purpose's live code: HMAC, request id, requester's client key, wrong tries of each side, end (epoch ms) */
  code: (purpose: Purpose) => ({
    hmac: `${purpose}:hmac`, id: `${purpose}:id`, client: `${purpose}:client`,
    requesterTries: `${purpose}:requesterTries`, otherTries: `${purpose}:otherTries`, expiresAt: `${purpose}:expiresAt`,
  }),
} as const

const RATE_LIMIT_PREFIX = 'sms:ratelimit:'

/** Keys that are not per mobile; in cluster mode each is its own slot. */
export const globalKeys = {
  /** sorted set of accepted sends from one client IP in the last hour */
  ipSends: (ip: string) => `sms:ip:${ip}:sends`,
  /** sorted set of accepted sends in the last minute, all numbers */
  budget: 'sms:budget',
  /** @fastify/rate-limit's per-IP request counters */
  rateLimitPrefix: RATE_LIMIT_PREFIX,
  /** the plugin's counter of one IP, for the send routes, which count it inside their own script (one round trip) */
  requestCounter: (ip: string) => `${RATE_LIMIT_PREFIX}${ip}`,
  /** a sender's pause record (paused-sender.ts), set with a TTL while every provider's circuit is open; read by `pnpm sms stats` */
  pausedSender: (consumer: string) => `sms:paused-sender:${consumer}`,
} as const
