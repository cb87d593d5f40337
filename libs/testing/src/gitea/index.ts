export * from './gitea.client';
export * from './gitea-forge';
