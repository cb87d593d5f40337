import { ForgePager, nextLink } from '../forge-http';
import { collectListing } from './forge-listing';
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
 * GitHub (REST, written against its documentation and tested with recorded answers only); the
 * base URL is the API root (https://api.github.com, or https://host/api/v3 for Enterprise):
 * `GET /orgs/{org}/repos?type=all`, falling back to `/users/{user}/repos?type=owner`;
 * `Authorization: Bearer …`; `per_page`, following the `Link` header.
 */
export class GitHubForge implements ForgeClient {
  constructor(private readonly pager: ForgePager) {}

  list({ baseUrl, owner, token, pageSize, signal }: ForgeListRequest): Promise<ForgeRepository[]> {
    const root = apiRoot(baseUrl);
    const owned = encodeURIComponent(owner);
    const org = new URL(`orgs/${owned}/repos`, root);
    org.searchParams.set('type', 'all');
    const user = new URL(`users/${owned}/repos`, root);
    user.searchParams.set('type', 'owner');
    for (const url of [org, user]) url.searchParams.set('per_page', String(pageSize));
    return collectListing(this.pager, {
      candidates: [org, user],
      headers: {
        Accept: 'application/vnd.github+json',
        'X-GitHub-Api-Version': '2022-11-28',
        ...(token && { Authorization: `Bearer ${token}` }),
      },
      next: (page, _items, url) => nextLink(page.headers, url),
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
