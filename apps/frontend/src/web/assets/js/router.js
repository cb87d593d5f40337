// History-API routing: links change the page without reloading it, so sign-in state, timers
// and the tokens in memory survive navigation. The server answers the same HTML shell for
// each of these paths (web.controller.ts, WEB_PAGE_PATHS), so reloads and shared links work.
import { h, mount } from './dom.js';
import { adminPage } from './pages/admin.js';
import { archiveDetailPage } from './pages/archive-detail.js';
import { archiveFilesPage } from './pages/archive-files.js';
import { archivesPage } from './pages/archives.js';
import { importDetailPage } from './pages/import-detail.js';
import { importsPage } from './pages/imports.js';
import { notFoundPage } from './pages/messages.js';
import { repositoriesPage } from './pages/repositories.js';
import { repositoryPage } from './pages/repository.js';
import { statsPage } from './pages/stats.js';
import { webhooksPage } from './pages/webhooks.js';

const routes = [
  { pattern: /^\/$/, nav: 'repositories', render: repositoriesPage },
  { pattern: /^\/repositories\/([^/]+)\/?$/, nav: 'repositories', render: repositoryPage },
  { pattern: /^\/archives\/?$/, nav: 'archives', render: archivesPage },
  { pattern: /^\/archives\/([^/]+)\/?$/, nav: 'archives', render: archiveDetailPage },
  { pattern: /^\/archives\/([^/]+)\/files(?:\/.*)?$/, nav: 'archives', render: archiveFilesPage },
  { pattern: /^\/stats\/?$/, nav: 'stats', render: statsPage },
  { pattern: /^\/imports\/?$/, nav: 'imports', render: importsPage },
  { pattern: /^\/imports\/([^/]+)\/?$/, nav: 'imports', render: importDetailPage },
  { pattern: /^\/webhooks\/?$/, nav: 'webhooks', render: webhooksPage },
  { pattern: /^\/admin\/?$/, nav: 'admin', render: adminPage },
];

/**
 * The archives list used to be the home page: its old addresses (`/?view=all`, `/?status=failed`)
 * now lead to `/archives` with the same query, so bookmarks keep working.
 */
function movedArchiveListAddress() {
  const { pathname, search } = window.location;
  const query = new URLSearchParams(search);
  if (pathname !== '/' || !(query.has('view') || query.has('status'))) return;
  window.history.replaceState(null, '', `/archives${search}`);
}

/** A hand-typed `%E9` is not UTF-8: keep the text as typed rather than fail the whole page. */
function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function startRouter({ main, api, session, onNavigate }) {
  let dispose;

  function render({ focus }) {
    dispose?.();
    dispose = undefined;
    movedArchiveListAddress();
    const path = window.location.pathname;
    const route = routes.find((r) => r.pattern.test(path));
    const params = route ? path.match(route.pattern).slice(1).map(safeDecode) : [];
    onNavigate?.(route?.nav);
    const view = h('div', { class: 'page' });
    mount(main, view);
    const ctx = {
      api,
      session,
      params,
      query: new URLSearchParams(window.location.search),
      navigate,
      setTitle: (title) => (document.title = `${title} · Repository Archiver`),
      /**
       * Updates the named query parameters of the current page without a history entry (filters,
       * pages); an empty value removes one. Parameters it does not name stay, so the list's
       * "page" never drops the page's own "view=all".
       */
      replaceQuery: (params) => {
        const search = new URLSearchParams(window.location.search);
        for (const [key, value] of Object.entries(params)) {
          if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
          else search.delete(key);
        }
        const text = search.toString();
        const next = `${window.location.pathname}${text ? `?${text}` : ''}`;
        if (next !== window.location.pathname + window.location.search) window.history.replaceState(null, '', next);
      },
    };
    dispose = (route?.render ?? notFoundPage)(view, ctx) ?? undefined;
    if (focus) {
      // Move focus to the new page's heading so keyboard and screen-reader users start there.
      const heading = view.querySelector('h1');
      (heading ?? main).setAttribute('tabindex', '-1');
      (heading ?? main).focus({ preventScroll: true });
      window.scrollTo(0, 0);
    }
  }

  function navigate(href) {
    const url = new URL(href, window.location.origin);
    if (url.pathname + url.search === window.location.pathname + window.location.search) return;
    window.history.pushState(null, '', url.pathname + url.search);
    render({ focus: true });
  }

  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
    if (!link || link.target || link.hasAttribute('download') || link.dataset.external !== undefined) return;
    const url = new URL(link.href, window.location.origin);
    if (url.origin !== window.location.origin || !routes.some((r) => r.pattern.test(url.pathname))) return;
    // A link to a spot on this very page (`#id`) is the browser's job, not a navigation.
    if (url.hash && url.pathname + url.search === window.location.pathname + window.location.search) return;
    event.preventDefault();
    navigate(url.href);
  });
  window.addEventListener('popstate', () => render({ focus: true }));

  render({ focus: false });
}
