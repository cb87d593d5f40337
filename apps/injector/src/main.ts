import { bootstrap } from '@archiver/runtime';
import { InjectorModule } from './injector.module';

void bootstrap('injector', InjectorModule);
