import { SetMetadata } from '@nestjs/common';
import type { Request } from 'express';

export const AUDIT_KEY = 'archiver:audit';

/** What an audited route records once it succeeded (AuditInterceptor). */
export interface AuditSpec {
  /**
   * The action's name, or how to name it from the request and the handler's result (e.g. a PATCH
   * that pauses or resumes); undefined when the request changed nothing, so nothing is recorded.
   */
  action: string | ((request: Request, result: unknown) => string | undefined);
  targetType: 'repository' | 'archive' | 'webhook' | 'import' | 'queues';
  /** Default: the route's `:id`, else the `id` of what the handler returned. */
  targetId?: (request: Request, result: unknown) => string | undefined;
  /**
   * The request fields worth keeping, named one by one: an allowlist, so a field added to a body
   * later (a credential, a secret) never lands in the log unless someone lists it here.
   */
  body?: readonly string[];
  query?: readonly string[];
}

/** Records who made this change, when, and through which request, in the audit log. */
export const Audited = (spec: AuditSpec): MethodDecorator => SetMetadata(AUDIT_KEY, spec);
