export * from './rebinding-dns.server';
