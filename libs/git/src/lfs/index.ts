export * from './lfs-batch';
export * from './lfs-client';
export * from './lfs-endpoint';
export * from './lfs-missing';
export * from './lfs-pointer';
export * from './lfs-ssh-access';
export { LfsSshAuthenticator } from './lfs-ssh-authenticator';
