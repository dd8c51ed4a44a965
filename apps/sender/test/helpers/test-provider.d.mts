import type { Redis } from 'ioredis'
import type { Provider } from '../../src/provider.js'
export declare const TEST_KEYS: { behaviour: string, deliveries: string, calls: string, callCount: string }
export declare function makeTestProvider(o: { redis: Redis, name?: string, latencyMs?: number, transientRate?: number }): Provider
export declare function createProvider(config: unknown): Provider
