export * from './archive.repository';
export * from './archive.types';
export * from './database.error';
export * from './database.module';
export * from './prisma.service';
export * from './repository.repository';
export * from './repository.types';
export * from './visit-schedule';
