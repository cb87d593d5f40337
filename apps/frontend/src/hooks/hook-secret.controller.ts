import { Controller, Delete, HttpCode, HttpStatus, Param, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOperation,
  ApiParam,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { type AuthUser, CurrentUser } from '@archiver/auth';
import { ApiErrorView } from '../api/api.error';
import { Audited } from '../audit/audited.decorator';
import { RepositoryIdPipe } from '../repositories/repository-id.pipe';
import { HookSecretService, type HookSecretView } from './hook-secret.service';

class HookSecretResultView {
  @ApiProperty({ description: 'The secret to configure in the forge; shown this once' })
  secret!: string;
  @ApiProperty({ description: 'The URL the forge should POST push events to' })
  hookUrl!: string;
}

const idParam = ApiParam({ name: 'id', format: 'uuid', description: 'Repository id' });
const notVisible = ApiNotFoundResponse({
  type: ApiErrorView,
  description: 'Unknown id, or a repository you do not track (admins see all)',
});

@ApiTags('repositories')
@ApiBearerAuth()
@Controller('api/repositories')
export class HookSecretController {
  constructor(private readonly secrets: HookSecretService) {}

  @Audited({ action: 'repository.hook_secret_rotate', targetType: 'repository' })
  @Post(':id/hook-secret')
  @idParam
  @ApiOperation({ summary: 'Generate its push-hook secret (replacing any earlier one); returned once, with the hook URL' })
  @ApiCreatedResponse({ type: HookSecretResultView })
  @notVisible
  rotate(@Param('id', RepositoryIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<HookSecretView> {
    return this.secrets.rotate(id, user);
  }

  @Audited({ action: 'repository.hook_secret_remove', targetType: 'repository' })
  @Delete(':id/hook-secret')
  @idParam
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Remove its push-hook secret: push hooks are then refused (401)' })
  @ApiNoContentResponse()
  @notVisible
  remove(@Param('id', RepositoryIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<void> {
    return this.secrets.remove(id, user);
  }
}
