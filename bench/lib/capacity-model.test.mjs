// Checks of the pure capacity model: `node --test 'bench/lib/*.test.mjs'`. Jest's roots are
// apps/, libs/ and test/ and the model is an .mjs module of the bench, so node's own runner checks it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BATCH_COMPONENTS,
  fleetCores,
  fleetVisitsPerHour,
  hourlyWithCores,
  OUR_COMPONENTS,
  perCoreHourly,
  predictBatchSeconds,
  relativeError,
  SCENARIOS,
} from './capacity-model.mjs';

const uniform = (seconds, components = [...OUR_COMPONENTS, 'gitServer']) => Object.fromEntries(components.map((c) => [c, seconds]));
const close = (actual, expected, eps = 1e-9) => assert.ok(Math.abs(actual - expected) <= eps, `${actual} ≉ ${expected}`);

describe('perCoreHourly', () => {
  it('turns CPU-seconds per item into items per hour per core for every component, Infinity where nothing is spent', () => {
    const sut = perCoreHourly({ ...uniform(0.5), redis: 0 });
    for (const c of OUR_COMPONENTS.filter((c) => c !== 'redis')) assert.equal(sut[c], 7200);
    assert.equal(sut.redis, Infinity);
  });
});

describe('hourlyWithCores', () => {
  it('is limited by the component with the fewest items per hour for its cores', () => {
    for (const scarce of OUR_COMPONENTS) {
      const cores = { ...uniform(4, OUR_COMPONENTS), [scarce]: 1 };
      const sut = hourlyWithCores(uniform(0.1, OUR_COMPONENTS), cores);
      assert.equal(sut.limitedBy, scarce);
      close(sut.perHour, 36_000);
    }
  });
  it('scales linearly with the cores of the limiting component', () => {
    const one = hourlyWithCores(uniform(0.2, OUR_COMPONENTS), uniform(1, OUR_COMPONENTS)).perHour;
    const three = hourlyWithCores(uniform(0.2, OUR_COMPONENTS), uniform(3, OUR_COMPONENTS)).perHour;
    close(three, 3 * one, 1e-6);
  });
});

describe('fleetVisitsPerHour', () => {
  it('counts each class at its interval and splits changed visits by the size mix', () => {
    const sut = fleetVisitsPerHour(10_000, SCENARIOS.adaptive);
    close(sut.total, 8000 / 720 + 2000 / 16, 1e-9);
    close(sut.changed, 2000 / 16 / 2, 1e-9);
    close(sut.unchanged + sut.changed, sut.total, 1e-9);
    close(
      Object.values(sut.bySize).reduce((a, b) => a + b, 0),
      sut.changed,
      1e-9,
    );
  });
  it('grows linearly with the number of repositories', () => {
    for (const scenario of Object.values(SCENARIOS)) {
      close(fleetVisitsPerHour(100_000, scenario).total, 10 * fleetVisitsPerHour(10_000, scenario).total, 1e-6);
    }
  });
});

describe('fleetCores', () => {
  const perArchive = { small: uniform(0.1), medium: uniform(1), large: uniform(10) };
  it('is CPU-seconds per hour over 3600 per component, changed visits priced by size', () => {
    const sut = fleetCores(3600, SCENARIOS.floor, perArchive, uniform(0.01));
    // 3600 visits/h: 2880 unchanged × 0.01 + 720 changed × (0.7 × 0.1 + 0.25 × 1 + 0.05 × 10) per component.
    const expected = (2880 * 0.01 + 720 * (0.07 + 0.25 + 0.5)) / 3600;
    for (const c of OUR_COMPONENTS) close(sut.cores[c], expected, 1e-9);
    close(sut.total, expected * OUR_COMPONENTS.length, 1e-9);
  });
  it('never provisions the forge stand-in', () => {
    const sut = fleetCores(1000, SCENARIOS.adaptive, perArchive, uniform(0.01));
    assert.equal('gitServer' in sut.cores, false);
  });
  it('refuses a size mix it has no figures for instead of pricing it at zero', () => {
    assert.throws(() => fleetCores(10, SCENARIOS.floor, { small: uniform(1) }, uniform(0.01)), /no CPU figures for size medium/);
  });
});

describe('predictBatchSeconds', () => {
  const base = { perArchive: { small: uniform(0.1) }, latencySeconds: { small: 0.5 }, concurrency: 2 };
  it('is the batch CPU over the cores when the machine is saturated', () => {
    const sut = predictBatchSeconds({ ...base, batch: { small: 100 }, cores: 2, workers: 1 });
    assert.equal(sut.limitedBy, 'cpu');
    close(sut.seconds, (100 * 0.1 * BATCH_COMPONENTS.length) / 2, 1e-9);
  });
  it('is the slots bound when archives mostly wait (latency ≫ CPU)', () => {
    const sut = predictBatchSeconds({ ...base, latencySeconds: { small: 10 }, batch: { small: 100 }, cores: 2, workers: 2 });
    assert.equal(sut.limitedBy, 'slots');
    close(sut.seconds, (100 * 10) / 4, 1e-9);
  });
  it("is one worker's Node thread when the worker dominates and other cores are free", () => {
    const perArchive = { small: { ...uniform(0.001), worker: 1 } };
    const sut = predictBatchSeconds({ ...base, perArchive, batch: { small: 10 }, cores: 16, workers: 1 });
    assert.equal(sut.limitedBy, 'workerThread');
    close(sut.seconds, 10, 1e-9);
  });
  it('leaves the frontend and injector out: the batch clock starts after submission and injection', () => {
    const perArchive = { small: { ...uniform(0.1), frontend: 100, injector: 100 } };
    const sut = predictBatchSeconds({ ...base, perArchive, batch: { small: 10 }, cores: 2, workers: 1 });
    close(sut.bounds.cpu, (10 * 0.1 * BATCH_COMPONENTS.length) / 2, 1e-9);
  });
});

describe('relativeError', () => {
  it('is symmetric in sign and relative to the measurement', () => {
    close(relativeError(125, 100), 0.25);
    close(relativeError(75, 100), 0.25);
  });
});
