// Memory: a fresh worker process archives one repository alone; its VmRSS is sampled every
// 100 ms and its VmHWM (the kernel's high-water mark) read at the end. git's own processes
// (clone, cat-file, bundle) are separate and not counted: this is the Node worker's footprint.
import { deleteArchives, log, sampleRss, startApp } from '../lib/common.mjs';
import { archiveThroughApi, stages } from './pipeline.mjs';

export async function memory(ctx) {
  const cases = {};
  for (const name of ['binary', 'files']) {
    const worker = await startApp('worker');
    const sampler = sampleRss(worker.pid, 100);
    let run;
    try {
      run = await archiveThroughApi(ctx, [name]);
    } finally {
      cases[name] = { ...sampler.stop(), ...(run ? stages(run.rows[0]) : {}) };
      await worker.stop();
    }
    await deleteArchives(ctx.frontend.url, run.ids);
    log(`memory: ${name}: peak RSS ${cases[name].peakRssMb} MB (VmHWM ${cases[name].hwmMb} MB, idle ${cases[name].startRssMb} MB)`);
  }
  const peak = (c) => Math.max(c.peakRssMb, c.hwmMb);
  return {
    result: { workerPeakRssMb: Math.max(peak(cases.binary), peak(cases.files)) },
    details: { binary200MiB: cases.binary, files10k: cases.files },
  };
}
