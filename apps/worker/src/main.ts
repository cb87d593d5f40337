import { bootstrap } from '@archiver/runtime';
import { WorkerModule } from './worker.module';

void bootstrap('worker', WorkerModule);
