/** Waits for `p` until `deadline` (epoch ms): 'late' when the deadline came first (`p` runs on). */
export async function until(p: Promise<unknown>, deadline: number): Promise<'done' | 'late'> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), Math.max(0, deadline - Date.now())) })
  try {
    return await Promise.race([p.then(() => 'done' as const), late])
  } finally {
    clearTimeout(timer)
  }
}
