export * from './delivery-state';
export * from './visit-events';
export * from './webhook-events';
export * from './webhook-sender';
export * from './webhook-signature';
