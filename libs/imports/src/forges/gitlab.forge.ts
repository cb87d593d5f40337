import { ForgePager, nextLink } from '../forge-http';
import { collectListing, withPage } from './forge-listing';
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
 * GitLab (REST v4, written against its documentation and tested with recorded answers only):
 * `GET /api/v4/groups/{id}/projects?include_subgroups=true`, falling back to
 * `/api/v4/users/{user}/projects`; `PRIVATE-TOKEN`; `per_page`/`page`, following `Link` or
 * `X-Next-Page` (GitLab leaves `Link` out of keyset-less answers over 10 000 rows).
 */
export class GitLabForge implements ForgeClient {
  constructor(private readonly pager: ForgePager) {}

  list({ baseUrl, owner, token, pageSize, signal }: ForgeListRequest): Promise<ForgeRepository[]> {
    const root = apiRoot(baseUrl);
    // A group's full path is its id once URL-encoded (`group%2Fsub`).
    const owned = encodeURIComponent(owner);
    const group = new URL(`api/v4/groups/${owned}/projects`, root);
    group.searchParams.set('include_subgroups', 'true');
    const user = new URL(`api/v4/users/${owned}/projects`, root);
    for (const url of [group, user]) {
      url.searchParams.set('per_page', String(pageSize));
      url.searchParams.set('page', '1');
    }
    return collectListing(this.pager, {
      candidates: [group, user],
      headers: token ? { 'PRIVATE-TOKEN': token } : {},
      next: (page, _items, url) => {
        const linked = nextLink(page.headers, url);
        if (linked) return linked;
        const nextPage = page.headers['x-next-page'];
        return typeof nextPage === 'string' && /^\d+$/.test(nextPage) ? withPage(url, Number(nextPage)) : null;
      },
      toRepository: (item) => {
        const fullName = field(item, 'path_with_namespace', isString, root.origin);
        const forkedFrom = typeof item === 'object' && item !== null ? (item as Record<string, unknown>).forked_from_project : undefined;
        return {
          fullName,
          relativePath: relativeTo(owner, fullName),
          cloneUrl: field(item, 'http_url_to_repo', isString, root.origin),
          // internal projects need a login too: treat them like private ones.
          private: field(item, 'visibility', isString, root.origin) !== 'public',
          fork: forkedFrom !== undefined && forkedFrom !== null,
          archived: field(item, 'archived', isBoolean, root.origin),
        };
      },
      signal,
    });
  }
}
