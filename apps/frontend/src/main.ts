import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { bootstrap } from '@archiver/runtime';
import { useJsonBodyParser } from './api/json-body.parser';
import { FrontendModule } from './frontend.module';
import { serveWebAssets } from './web/web-assets';

void bootstrap('frontend', FrontendModule, (app, config) => {
  app.set('trust proxy', 'loopback');
  useJsonBodyParser(app);
  serveWebAssets(app, config);
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Repository Archiver API')
      .setDescription('Submit git repositories for archiving and follow each archive through its stages.')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from realm "archiver"' })
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document);
});
