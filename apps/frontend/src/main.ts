import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { bootstrap } from '@archiver/runtime';
import { FrontendModule } from './frontend.module';
import { serveWebAssets } from './web/web-assets';

void bootstrap('frontend', FrontendModule, (app, config) => {
  app.set('trust proxy', 'loopback');
  // Requests are small JSON documents (a batch of 100 URLs is well under this).
  app.useBodyParser('json', { limit: '64kb' });
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
