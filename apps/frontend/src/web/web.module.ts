import { Module } from '@nestjs/common';
import { WebController } from './web.controller';
import { WebShellService } from './web-shell.service';

/**
 * The web interface: an HTML shell and static browser code that signs in with Keycloak
 * (Authorization Code + PKCE, see README-auth.md) and calls the REST API with a bearer token.
 * Static files are mounted in main.ts through `serveWebAssets`.
 */
@Module({
  controllers: [WebController],
  providers: [WebShellService],
})
export class WebModule {}
