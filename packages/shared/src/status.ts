import { Type, type Static } from '@sinclair/typebox'

/**
 * A request's status. Delivery ends (`delivered`, `undelivered`, `failed`) and
 * check ends (`verified`, `burnt`, `superseded`, `expired`) are final: a later
 * event only adds its timestamp. The ranks below live in lua/lib/status-rank.lua too.
 */
export const STATUSES = ['queued', 'sending', 'retrying', 'sent', 'failed', 'delivered', 'undelivered', 'verified', 'burnt', 'superseded', 'expired'] as const
export const StatusSchema = Type.Union(STATUSES.map((s) => Type.Literal(s)))
export type Status = Static<typeof StatusSchema>

/** Statuses after which the code may still be checked, so expiry is reported on read. */
export const UNCHECKED: ReadonlySet<Status> = new Set(['queued', 'sending', 'retrying', 'sent', 'delivered', 'undelivered'])
