import { createServer, METHODS, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http'
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerFactoryHandler } from 'fastify'
import { errors } from '../errors.js'
import { clientErrorHandler } from './client-errors.js'
import { MAX_HEADER_BYTES, REQUEST_TIMEOUT_MS, SERVED_METHODS } from './limits.js'
import { bodyUnread, lingerThenClose } from './linger.js'
import { edgeHeaders } from './raw-answer.js'

export interface EdgeOptions {
  readonly corsOrigins: readonly string[]
  /** tests only: the contract's 15 s, shortened */
  readonly requestTimeoutMs?: number | undefined
}

/**
 * Undecodable URLs and over-long path parameters are refused while routing,
 * before any hook runs: answered here with what the hooks would have added.
 * Fastify's own answer echoes the URL.
 */
function routingError(allowedOrigins: readonly string[]) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const e = error.code === 'FST_ERR_BAD_URL' ? errors.badUrl() : error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? errors.uriTooLong() : errors.internal()
    if (e.statusCode >= 500) request.log.error({ err: error }, 'routing error')
    if (bodyUnread(request.raw)) {
      reply.header('connection', 'close')
      lingerThenClose(request.raw.socket)
    }
    void reply.code(e.statusCode).headers({ ...edgeHeaders(request.headers.origin, allowedOrigins), ...e.headers }).send(e.body())
  }
}

/** Methods Fastify's router knows: Node's parser also lets through `PRI` (the HTTP/2 preface), which the router cannot look up. */
const ROUTABLE_METHODS: ReadonlySet<string> = new Set(METHODS)

/** Fastify's own server settings that it applies only to a server it creates itself. */
interface FactoryOptions { http?: ServerOptions, keepAliveTimeout: number, requestTimeout: number, connectionTimeout: number }

/**
 * The HTTP server, with one guard in front of Fastify: a method the router
 * cannot look up (`PRI /x` without a version reaches it as HTTP/0.9) would fall
 * through to Fastify's last-resort 404, past every hook, with two warning lines
 * per request. It is answered 405 here instead, as CONNECT is.
 */
function serverFactory(corsOrigins: readonly string[]) {
  return (handler: FastifyServerFactoryHandler, options: Record<string, unknown>) => {
    const { http, keepAliveTimeout, requestTimeout, connectionTimeout } = options as unknown as FactoryOptions
    const server = createServer(http ?? {}, (req: IncomingMessage, res: ServerResponse) => {
      if (ROUTABLE_METHODS.has(req.method ?? '')) return handler(req, res)
      const e = errors.methodNotAllowed(SERVED_METHODS)
      if (bodyUnread(req)) lingerThenClose(req.socket)
      const body = JSON.stringify(e.body())
      res.writeHead(e.statusCode, {
        ...edgeHeaders(req.headers.origin, corsOrigins), ...e.headers,
        'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close',
      })
      res.end(body)
    })
    server.keepAliveTimeout = keepAliveTimeout
    server.requestTimeout = requestTimeout
    server.setTimeout(connectionTimeout)
    return server
  }
}

/**
 * Fastify's constructor options for the HTTP edge: the timeouts, the header
 * limit, and who answers the requests that never reach a route.
 */
export function edgeServerOptions({ corsOrigins, requestTimeoutMs = REQUEST_TIMEOUT_MS }: EdgeOptions) {
  return {
    requestTimeout: requestTimeoutMs,
    http: {
      requestTimeout: requestTimeoutMs,
      // Node's default lets headers take 60 s, four times the whole request's limit.
      headersTimeout: requestTimeoutMs,
      // Node checks both timeouts on this interval; its default of 30 s made a stalled request wait up to 90 s.
      connectionsCheckingInterval: Math.min(1000, Math.ceil(requestTimeoutMs / 2)),
      maxHeaderSize: MAX_HEADER_BYTES,
      // Node's own answer to a missing Host is an empty 400; the host check answers invalid_host instead.
      requireHostHeader: false,
    },
    serverFactory: serverFactory(corsOrigins),
    clientErrorHandler: clientErrorHandler(corsOrigins, requestTimeoutMs),
    frameworkErrors: routingError(corsOrigins),
  }
}
