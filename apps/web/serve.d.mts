import type { Server } from 'node:http'

export interface Served {
  readonly server: Server
  readonly port: number
  /** `http://host:port` */
  readonly url: string
  close(): Promise<void>
}

export function serveStatic(options?: { port?: number, host?: string, root?: string }): Promise<Served>
