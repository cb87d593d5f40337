import { bootstrap } from '@archiver/runtime';
import { ApiExceptionFilter } from './api/api-exception.filter';
import { useJsonBodyParser } from './api/json-body.parser';
import { FrontendModule } from './frontend.module';
import { setupApiDocs } from './web/api-docs';
import { serveWebAssets } from './web/web-assets';
import { WebNotFoundFilter } from './web/web-not-found.filter';
import { WebShellService } from './web/web-shell.service';

void bootstrap('frontend', FrontendModule, (app, config) => {
  app.set('trust proxy', 'loopback');
  useJsonBodyParser(app);
  serveWebAssets(app, config);
  // Added after the module's APP_FILTER (ApiExceptionFilter), so Nest consults it first; what
  // it does not answer itself it hands to that filter, so the JSON errors stay as they are.
  app.useGlobalFilters(new WebNotFoundFilter(app.get(WebShellService), new ApiExceptionFilter()));
  setupApiDocs(app, config);
});
