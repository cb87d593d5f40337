import { ForgePager, nextLink } from '../forge-http';
import { collectListing, pageNumber, withPage } from './forge-listing';
import {
  apiRoot,
  field,
  type ForgeClient,
  type ForgeListRequest,
  type ForgeRepository,
  isBoolean,
  isString,
  relativeTo,
} from './forge.types';

/**
 * Gitea (and Forgejo): `GET /api/v1/orgs/{org}/repos`, falling back to `/api/v1/users/{user}/repos`
 * for a user; `Authorization: token …`; `limit`/`page`, following the `Link` header (or, from a
 * server that sends none, the next page number while pages come back full).
 */
export class GiteaForge implements ForgeClient {
  constructor(private readonly pager: ForgePager) {}

  list({ baseUrl, owner, token, pageSize, signal }: ForgeListRequest): Promise<ForgeRepository[]> {
    const root = apiRoot(baseUrl);
    const owned = encodeURIComponent(owner);
    const candidates = [`api/v1/orgs/${owned}/repos`, `api/v1/users/${owned}/repos`].map((path) => {
      const url = new URL(path, root);
      url.searchParams.set('limit', String(pageSize));
      url.searchParams.set('page', '1');
      return url;
    });
    return collectListing(this.pager, {
      candidates,
      headers: token ? { Authorization: `token ${token}` } : {},
      next: (page, items, url) =>
        nextLink(page.headers, url) ??
        (page.headers.link === undefined && items.length >= pageSize ? withPage(url, pageNumber(url) + 1) : null),
      toRepository: (item) => {
        const fullName = field(item, 'full_name', isString, root.origin);
        return {
          fullName,
          relativePath: relativeTo(owner, fullName),
          cloneUrl: field(item, 'clone_url', isString, root.origin),
          private: field(item, 'private', isBoolean, root.origin),
          fork: field(item, 'fork', isBoolean, root.origin),
          archived: field(item, 'archived', isBoolean, root.origin),
        };
      },
      signal,
    });
  }
}
