export * from './coalesced-batches';
