// Integration tests start real processes and wait on real services.
jest.setTimeout(90_000);
