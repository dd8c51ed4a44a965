import { Value } from '@sinclair/typebox/value'
import t from 'tap'
import { decodeStatusRecord, statusOnRead, StatusRecordSchema } from '../src/index.js'

t.test('no status field: no record', async (t) => {
  t.equal(decodeStatusRecord({}), undefined)
})

t.test('a failed code request: numbers, error fields and timestamps decoded, and it fits the schema', async (t) => {
  const r = decodeStatusRecord({
    requestId: '0-a', kind: 'code', mobile: '+8613812345678', purpose: 'login', status: 'failed', attempts: '3', provider: 'tencent',
    createdAt: '100', queuedAt: '100', sendingAt: '110', retryingAt: '120', retryAt: '150', failedAt: '160', updatedAt: '160', expiresAt: '400',
    lastError: 'busy', error: 'invalid number', failReason: 'permanent', entryId: 'retry',
  })
  t.same(r, {
    requestId: '0-a', kind: 'code', status: 'failed', attempts: 3, createdAt: 100, updatedAt: 160, expiresAt: 400,
    mobile: '+8613812345678', purpose: 'login', provider: 'tencent', error: 'invalid number', failReason: 'permanent', lastError: 'busy',
    timestamps: { queued: 100, sending: 110, retrying: 120, retry: 150, failed: 160 },
  })
  t.ok(Value.Check(StatusRecordSchema, r))
})

t.test('a bulk record: counts and per-number results; a record without createdAt goes by queuedAt', async (t) => {
  const r = decodeStatusRecord({
    requestId: '0-b', kind: 'bulk', status: 'sent', attempts: '1', recipients: '2', jobs: '1', sent: '1', failed: '1', queuedAt: '7', updatedAt: '9',
    results: JSON.stringify({ '+8613800000001': { status: 'sent', provider: 'test' }, '+8613800000002': { status: 'failed', error: 'x' } }),
  })
  t.match(r, { kind: 'bulk', createdAt: 7, recipients: 2, sent: 1, failed: 1, results: { '+8613800000002': { status: 'failed', error: 'x' } } })
  t.ok(Value.Check(StatusRecordSchema, r))
  t.notOk('sent' in decodeStatusRecord({ status: 'sent', kind: 'code', sent: '1' })!, 'sent and failed are counts of a bulk request only')
})

t.test('statusOnRead: a code that ran out unchecked reads expired, at its expiry; ended or bulk records stay', async (t) => {
  const code = decodeStatusRecord({ requestId: '0-c', kind: 'code', status: 'sent', sentAt: '5', expiresAt: '100', updatedAt: '5' })!
  t.same(statusOnRead(code, 99), { status: 'sent', timestamps: { sent: 5 } })
  t.same(statusOnRead(code, 100), { status: 'expired', timestamps: { sent: 5, expired: 100 } })
  const verified = decodeStatusRecord({ kind: 'code', status: 'verified', expiresAt: '100' })!
  t.equal(statusOnRead(verified, 200).status, 'verified')
  const bulk = decodeStatusRecord({ kind: 'bulk', status: 'sent', expiresAt: '100' })!
  t.equal(statusOnRead(bulk, 200).status, 'sent')
})
