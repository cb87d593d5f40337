export * from './delivery-state';
export * from './visit-events';
export * from './webhook-events';
export * from './webhook-sender';
export * from './webhook-signature';
export * from './webhook-body';
export * from './webhook-target';
export * from './pinned-request';
