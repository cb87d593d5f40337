// Live data by polling: `task` runs now and then every `intervalMs` after the previous run
// ended (never overlapping), only while the tab is visible — a hidden tab costs the server
// nothing and catches up the moment it is shown again.

export function poll(task, intervalMs) {
  let timer;
  let running = false;
  let stopped = false;

  const schedule = () => {
    clearTimeout(timer);
    if (!stopped && document.visibilityState === 'visible') timer = setTimeout(run, intervalMs);
  };

  async function run() {
    if (stopped || running) return;
    running = true;
    try {
      await task();
    } catch (error) {
      // The task shows its own errors; polling goes on so a blip heals by itself.
      console.warn('refresh failed', error);
    } finally {
      running = false;
      schedule();
    }
  }

  const onVisibility = () => {
    if (document.visibilityState === 'visible') void run();
    else clearTimeout(timer);
  };
  document.addEventListener('visibilitychange', onVisibility);
  void run();

  return {
    /** Runs the task now (e.g. after a submission) and restarts the interval. */
    refresh: () => {
      clearTimeout(timer);
      return run();
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    },
  };
}
