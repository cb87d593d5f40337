// Many unit tests run real git (fixtures, readers, cloners): seconds on a saturated CI machine,
// where jest's default 5 s made them fail though nothing was wrong. A hang still fails.
jest.setTimeout(30_000);
