#!/usr/bin/env node
// The suite in two tap runs. Files that start no process of their own (in-process apps, unit
// tests, one redis-server) run two at a time; the process, cluster and browser suites, whose
// children compete for this 2-core machine's CPU and would turn timing margins into flakes,
// run one at a time after them. A file is put in the second run by what it calls (the
// pattern below), itself or through a helper it imports from ./helpers/, so a new test file
// needs no list. Arguments go to both tap runs.
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

const STARTS_PROCESSES = /\b(runNode|runToExit|startApi|startApiProcess|startSenderProcess|startRecordingSender|startRedisCluster|startSms|smsProcess|spawn|execFile|chromium)\b/
const HELPER_IMPORT = /from '(\.\/helpers\/[^']+)\.js'/g

const TAP = new URL('../node_modules/.bin/tap', import.meta.url).pathname
const tap = (args) => spawnSync(TAP, args, { stdio: 'inherit' }).status ?? 1
const files = execFileSync(TAP, ['list'], { encoding: 'utf8' })
  .split('\n').filter((f) => f.endsWith('.test.ts'))

function startsProcesses(file) {
  const source = readFileSync(file, 'utf8')
  if (STARTS_PROCESSES.test(source)) return true
  return [...source.matchAll(HELPER_IMPORT)].some(([, helper]) => {
    try { return STARTS_PROCESSES.test(readFileSync(join(dirname(file), `${helper}.ts`), 'utf8')) } catch { return false } // only TypeScript helpers are read
  })
}

const alone = files.filter(startsProcesses)
const paired = files.filter((f) => !alone.includes(f))
const extra = process.argv.slice(2)

console.log(`# ${paired.length} files two at a time, then ${alone.length} that start processes one at a time`)
const first = tap(['--jobs=2', ...extra, ...paired])
const second = tap(['--jobs=1', ...extra, ...alone])
process.exit(first !== 0 ? first : second)
