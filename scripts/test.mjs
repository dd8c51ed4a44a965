#!/usr/bin/env node
// The suite in two tap runs. Files that start no process of their own (in-process apps, unit
// tests, one redis-server) run two at a time; the process, cluster and browser suites, whose
// children compete for this 2-core machine's CPU and would turn timing margins into flakes,
// run one at a time after them. A file is put in the second run by what it calls (the
// pattern below), so a new test file needs no list. Arguments go to both tap runs.
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const STARTS_PROCESSES = /\b(runNode|runToExit|startApi|startApiProcess|startSenderProcess|startRecordingSender|startRedisCluster|startSms|smsProcess|spawn|execFile|chromium)\b/

const TAP = new URL('../node_modules/.bin/tap', import.meta.url).pathname
const tap = (args) => spawnSync(TAP, args, { stdio: 'inherit' }).status ?? 1
const files = execFileSync(TAP, ['list'], { encoding: 'utf8' })
  .split('\n').filter((f) => f.endsWith('.test.ts'))
const alone = files.filter((f) => STARTS_PROCESSES.test(readFileSync(f, 'utf8')))
const paired = files.filter((f) => !alone.includes(f))
const extra = process.argv.slice(2)

console.log(`# ${paired.length} files two at a time, then ${alone.length} that start processes one at a time`)
const first = tap(['--jobs=2', ...extra, ...paired])
const second = tap(['--jobs=1', ...extra, ...alone])
process.exit(first !== 0 ? first : second)
