import { type ForgePage, ForgePager } from '../forge-http';
import { ImportError, ImportErrorCode } from '../import.error';
import type { ForgeRepository } from './forge.types';

export interface PagedListing {
  /** First-page URLs to try in order (the organization's, then the user's); a 404 moves on to the next. */
  candidates: URL[];
  headers: Record<string, string>;
  next: (page: ForgePage, items: unknown[], url: URL) => URL | null;
  toRepository: (item: unknown) => ForgeRepository;
  signal?: AbortSignal;
}

/** Every repository of the first candidate listing that exists; FORGE_NOT_FOUND when none does. */
export async function collectListing(pager: ForgePager, listing: PagedListing): Promise<ForgeRepository[]> {
  for (const url of listing.candidates) {
    const first = await pager.get(url, listing.headers, listing.signal);
    if (first === null) continue;
    const repositories: ForgeRepository[] = [];
    for await (const items of pager.pages(url, listing.headers, listing.next, listing.signal, first)) {
      for (const item of items) repositories.push(listing.toRepository(item));
    }
    return repositories;
  }
  const origin = listing.candidates[0]?.origin ?? 'The forge';
  throw new ImportError(
    ImportErrorCode.FORGE_NOT_FOUND,
    `${origin} has no organization, group or user of that name (or the token may not see it): check the owner`,
  );
}

/** The same URL asking for another page. */
export function withPage(url: URL, page: number): URL {
  const next = new URL(url);
  next.searchParams.set('page', String(page));
  return next;
}

export function pageNumber(url: URL): number {
  return Number(url.searchParams.get('page') ?? '1');
}
