// CPU counters read before and after a load: a process tree's from /proc, a Redis server's
// from INFO. Each figure is "CPU spent per answered request", so a faster machine or a
// busier neighbour moves the absolute numbers but not much the ratios taken in one run.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100 // USER_HZ on every Linux build that matters
  }
})()

/** utime + stime of one process (all its threads: pino's worker, libuv's pool), in seconds. */
function processCpuSeconds(pid) {
  // The command name may hold spaces or parentheses: fields count from the last ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond
}

function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/** CPU seconds of a process and every live descendant (a server that forks workers counts them all). */
export function treeCpuSeconds(pid) {
  let total = 0
  for (const stack = [pid]; stack.length > 0;) {
    const next = stack.pop()
    try {
      total += processCpuSeconds(next)
    } catch {
      continue // exited between the listing and the read
    }
    stack.push(...childrenOf(next))
  }
  return total
}

/** Seconds of CPU a Redis server has used (INFO cpu: user + sys, main thread and all). */
export async function redisCpuSeconds(client) {
  const info = await client.info('cpu')
  const read = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0)
  return read('used_cpu_user') + read('used_cpu_sys')
}

const NOT_COUNTED = new Set(['info', 'cluster', 'command', 'ping', 'config', 'client', 'flushall', 'hello', 'select'])

/** Commands Redis ran since the last CONFIG RESETSTAT, by name, without the bench's own. */
export async function commandCalls(client) {
  const info = await client.info('commandstats')
  const calls = {}
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!NOT_COUNTED.has(m[1].split('|')[0])) calls[m[1]] = Number(m[2]) // 'config|resetstat' is the bench's
  }
  return calls
}

/**
 * Starts counting a server process and the Redis servers it talks to; `stop(answered)`
 * returns CPU per answered request: Node in ms, Redis in µs, and Redis commands.
 */
export async function startCounting(pid, redisClients) {
  await Promise.all(redisClients.map((c) => c.config('RESETSTAT')))
  const nodeBefore = treeCpuSeconds(pid)
  const redisBefore = await Promise.all(redisClients.map(redisCpuSeconds))
  return {
    async stop(answered) {
      const nodeSeconds = treeCpuSeconds(pid) - nodeBefore
      const redisAfter = await Promise.all(redisClients.map(redisCpuSeconds))
      const redisSeconds = redisAfter.reduce((sum, after, i) => sum + after - redisBefore[i], 0)
      const calls = {}
      for (const c of redisClients) for (const [name, n] of Object.entries(await commandCalls(c))) calls[name] = (calls[name] ?? 0) + n
      const per = Math.max(1, answered)
      const commands = Object.values(calls).reduce((a, b) => a + b, 0)
      return {
        nodeCpuMsPerRequest: round((nodeSeconds * 1e3) / per, 4),
        redisCpuMicrosPerRequest: round((redisSeconds * 1e6) / per, 1),
        redisCommandsPerRequest: round(commands / per, 2),
        redisCommandsByName: Object.fromEntries(Object.entries(calls).map(([name, n]) => [name, round(n / per, 2)])),
      }
    },
  }
}

export const round = (x, digits) => Math.round(x * 10 ** digits) / 10 ** digits
