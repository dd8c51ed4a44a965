import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import { globalKeys, MINUTE_MS, type RedisClient } from '@sms-verify/shared'
import { errors } from '../errors.js'
import { HOST_EXEMPT, pathOf } from './host-check.js'

/**
 * The general per-IP limit, shared by all API replicas through Redis, keyed by the client key
 * (plugins/client.ts runs first), the same name the send script counts under. When
 * Redis is away it lets requests through (skipOnError): the routes that need
 * Redis answer 503 themselves, and the probes keep working.
 */
export const rateLimitPlugin = fp<{ max: number, redis: RedisClient }>(async (app, { max, redis }) => {
  await app.register(rateLimit, {
    global: true,
    max,
    timeWindow: MINUTE_MS,
    redis,
    nameSpace: globalKeys.rateLimitPrefix,
    skipOnError: true,
    keyGenerator: (request) => request.clientKey,
    allowList: (request) => HOST_EXEMPT.has(pathOf(request.url)),
    errorResponseBuilder: (_request, context) => errors.rateLimited(context.ttl),
  })
}, { name: 'sms-rate-limit' })
