// The quotas live in libs/tracking so the worker's imports check the very same ones.
export { TrackingLimits as UsageLimits } from '@archiver/tracking';
