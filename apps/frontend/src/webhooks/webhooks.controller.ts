import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Query, UseInterceptors } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { type AuthUser, CurrentUser } from '@archiver/auth';
import { ApiErrorView } from '../api/api.error';
import { JsonBodyInterceptor } from '../api/json-body.interceptor';
import { ZodValidationPipe } from '../api/zod-validation.pipe';
import { Audited } from '../audit/audited.decorator';
import {
  CreateWebhookBody,
  CreateWebhookDoc,
  createWebhookSchema,
  ListWebhooksQuery,
  ListWebhooksQueryDoc,
  listWebhooksQuerySchema,
  PageQuery,
  pageQuerySchema,
  UpdateWebhookBody,
  UpdateWebhookDoc,
  updateWebhookSchema,
  WebhookIdPipe,
} from './webhook.dto';
import { WebhookDeliveryPageView, WebhookDeliveryView, WebhookPageView, WebhookView, WebhookWithSecretView } from './webhook.view';
import { WebhooksService } from './webhooks.service';

const idParam = ApiParam({ name: 'id', format: 'uuid', description: 'Webhook id; anything else answers 404' });
const notVisible = ApiNotFoundResponse({ type: ApiErrorView, description: 'Unknown id, or another user’s webhook (admins see all)' });
const invalid = ApiBadRequestResponse({
  type: ApiErrorView,
  description: 'INVALID_REQUEST, INVALID_URL or BLOCKED_BY_POLICY (a private or loopback address not allowlisted); nothing recorded',
});

// The secret never enters the audit log: only the fields listed here do (not the URL either, which may carry a token).
@ApiTags('webhooks')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ type: ApiErrorView, description: 'Token missing, malformed, expired or not for this API' })
@ApiForbiddenResponse({ type: ApiErrorView, description: 'The account lacks archiver-user (or archiver-admin where noted)' })
@UseInterceptors(JsonBodyInterceptor)
@Controller('api/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Audited({ action: 'webhook.create', targetType: 'webhook', body: ['events', 'allRepositories'] })
  @Post()
  @ApiOperation({ summary: 'Register an endpoint for notifications about the repositories you track (admins: allRepositories for all)' })
  @ApiBody({ type: CreateWebhookDoc })
  @ApiCreatedResponse({ type: WebhookWithSecretView, description: 'Registered; `secret` is shown this once' })
  @invalid
  create(
    @Body(new ZodValidationPipe(createWebhookSchema)) body: CreateWebhookBody,
    @CurrentUser() user: AuthUser,
  ): Promise<WebhookWithSecretView> {
    return this.webhooks.create(body, user);
  }

  @Get()
  @ApiOperation({ summary: 'Your endpoints, newest first (scope=all: everyone’s, archiver-admin)' })
  @ApiQuery({ type: ListWebhooksQueryDoc })
  @ApiOkResponse({ type: WebhookPageView })
  @ApiBadRequestResponse({ type: ApiErrorView })
  list(
    @Query(new ZodValidationPipe(listWebhooksQuerySchema)) query: ListWebhooksQuery,
    @CurrentUser() user: AuthUser,
  ): Promise<WebhookPageView> {
    return this.webhooks.list(query, user);
  }

  @Get(':id')
  @idParam
  @ApiOperation({ summary: 'One endpoint (never its secret: `secretSet`)' })
  @ApiOkResponse({ type: WebhookView })
  @notVisible
  get(@Param('id', WebhookIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<WebhookView> {
    return this.webhooks.get(id, user);
  }

  @Audited({ action: 'webhook.update', targetType: 'webhook', body: ['events', 'active', 'allRepositories', 'rotateSecret'] })
  @Patch(':id')
  @idParam
  @ApiOperation({ summary: 'Change its URL, events or active flag; rotateSecret: true returns a new secret once' })
  @ApiBody({ type: UpdateWebhookDoc })
  @ApiOkResponse({ type: WebhookWithSecretView })
  @invalid
  @notVisible
  update(
    @Param('id', WebhookIdPipe) id: string,
    @Body(new ZodValidationPipe(updateWebhookSchema)) body: UpdateWebhookBody,
    @CurrentUser() user: AuthUser,
  ): Promise<WebhookWithSecretView> {
    return this.webhooks.update(id, body, user);
  }

  @Audited({ action: 'webhook.delete', targetType: 'webhook' })
  @Delete(':id')
  @idParam
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Remove it and its delivery records' })
  @ApiNoContentResponse()
  @notVisible
  delete(@Param('id', WebhookIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<void> {
    return this.webhooks.delete(id, user);
  }

  @Get(':id/deliveries')
  @idParam
  @ApiOperation({ summary: 'Its deliveries, newest first: status, attempts, last HTTP status and error, timestamps' })
  @ApiOkResponse({ type: WebhookDeliveryPageView })
  @notVisible
  deliveries(
    @Param('id', WebhookIdPipe) id: string,
    @Query(new ZodValidationPipe(pageQuerySchema)) query: PageQuery,
    @CurrentUser() user: AuthUser,
  ): Promise<WebhookDeliveryPageView> {
    return this.webhooks.deliveries(id, query, user);
  }

  @Post(':id/test')
  @idParam
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Queue a `ping` delivery to it' })
  @ApiAcceptedResponse({ type: WebhookDeliveryView })
  @notVisible
  test(@Param('id', WebhookIdPipe) id: string, @CurrentUser() user: AuthUser): Promise<WebhookDeliveryView> {
    return this.webhooks.ping(id, user);
  }
}
