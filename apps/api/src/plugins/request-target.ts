import fp from 'fastify-plugin'
import { errors } from '../errors.js'
import { MAX_URL_LENGTH } from '../edge/limits.js'

/** 414 for a request target over MAX_URL_LENGTH (beyond the header limit, the client error handler says it). */
export const requestTargetPlugin = fp(async (app) => {
  app.addHook('onRequest', (request, _reply, done) => {
    done((request.raw.url ?? '').length > MAX_URL_LENGTH ? errors.uriTooLong() : undefined)
  })
}, { name: 'sms-request-target' })
