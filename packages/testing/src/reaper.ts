import type { ChildProcess } from 'node:child_process'

/**
 * Every process the harness started that has not exited yet. Tests stop their own in teardown;
 * this is the backstop for the paths a teardown never saw (a start that timed out before the
 * test registered the process): whatever is left dies with the test file's process.
 */
const alive = new Set<ChildProcess>()
process.once('exit', () => { for (const child of alive) child.kill('SIGKILL') })

export function reapOnExit<C extends ChildProcess>(child: C): C {
  alive.add(child)
  child.once('exit', () => alive.delete(child))
  return child
}
