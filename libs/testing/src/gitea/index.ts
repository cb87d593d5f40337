export * from './gitea.client';
export * from './gitea-forge';
export * from './lfs-fixture';
