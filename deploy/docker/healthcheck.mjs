// Docker HEALTHCHECK for the app images: `node deploy/docker/healthcheck.mjs frontend`.
// The runtime image has no curl; Node's fetch does the same job. The port follows the app's
// own setting (FRONTEND_PORT, …) so the check keeps working when a deployment moves it.
const defaults = { frontend: 3000, injector: 3001, worker: 3002 };
const app = process.argv[2];
if (!(app in defaults)) {
  console.error(`usage: healthcheck.mjs ${Object.keys(defaults).join('|')}`);
  process.exit(2);
}
// A container probe outside the apps: it needs one port, not the whole validated config.
// eslint-disable-next-line no-restricted-properties
const port = process.env[`${app.toUpperCase()}_PORT`] || defaults[app];
try {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(4000) });
  if (!res.ok) {
    console.error(`${app} /health answered ${res.status}`);
    process.exit(1);
  }
} catch (error) {
  console.error(`${app} /health unreachable: ${error.cause?.code ?? error.message}`);
  process.exit(1);
}
