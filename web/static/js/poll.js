// Live updates by polling. Each poller runs its task, waits the delay the task asks
// for, and runs it again; failures back off (doubling up to a minute, or the server's
// Retry-After), hidden tabs pause, and the view that started it stops it when it goes.

const MAX_BACKOFF = 60_000;

// poll runs task now and then again after the delay in milliseconds that task returns
// (or `every` when it returns nothing). onError hears each failure. It returns a stop
// function; the poller also stops when signal aborts.
export function poll(task, { every = 10_000, signal, onError } = {}) {
  let timer = 0;
  let failures = 0;
  let stopped = false;
  let running = false;
  let due = false;

  const schedule = (ms) => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(tick, ms);
  };

  async function tick() {
    if (stopped) return;
    if (document.hidden) {
      due = true;
      return;
    }
    running = true;
    try {
      const next = await task();
      failures = 0;
      schedule(typeof next === "number" ? next : every);
    } catch (e) {
      if (stopped || (e && e.name === "AbortError")) return;
      failures++;
      if (onError) onError(e);
      if (e && e.status === 401) return;
      const backoff = Math.min(every * 2 ** failures, MAX_BACKOFF);
      schedule(e && e.retryAfter ? e.retryAfter * 1000 : backoff);
    } finally {
      running = false;
    }
  }

  const onVisible = () => {
    if (!document.hidden && due && !running) {
      due = false;
      tick();
    }
  };
  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", onVisible);
  };
  document.addEventListener("visibilitychange", onVisible);
  if (signal) signal.addEventListener("abort", stop, { once: true });
  tick();
  return { stop, now: () => { if (!running) tick(); } };
}
