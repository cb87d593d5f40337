import type { Request } from 'express';

/** Realm roles the API knows about (defined in deploy/keycloak/archiver-realm.json). */
export const ArchiverRole = {
  USER: 'archiver-user',
  ADMIN: 'archiver-admin',
} as const;
export type ArchiverRole = (typeof ArchiverRole)[keyof typeof ArchiverRole];

/** What a valid access token says about its bearer. */
export interface VerifiedToken {
  /** Keycloak's stable user id (`sub`). */
  subject: string;
  /** `preferred_username`, falling back to the subject. */
  username: string;
  /** Realm roles (`realm_access.roles`). */
  roles: string[];
  /** The raw access token, for calls made on the user's behalf. */
  token: string;
}

/** The signed-in person, as controllers see it through `@CurrentUser()`. */
export interface AuthUser {
  subject: string;
  username: string;
  roles: string[];
  isAdmin: boolean;
}

export function toAuthUser(identity: Pick<VerifiedToken, 'subject' | 'username' | 'roles'>): AuthUser {
  return {
    subject: identity.subject,
    username: identity.username,
    roles: [...identity.roles],
    isAdmin: identity.roles.includes(ArchiverRole.ADMIN),
  };
}

/** An Express request after the guard let it through. */
export interface AuthenticatedRequest extends Request {
  user?: AuthUser;
}
