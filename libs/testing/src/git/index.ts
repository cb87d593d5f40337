export * from './fixture-git.command';
export * from './fixture-repos.fixture';
export * from './git-http.server';
export * from './git-daemon.server';
export * from './hostile-git.server';
export * from './pack-damage';
export * from './browse-fixture.repo';
