// "/archives/:id/files/<path>": one snapshot's files — breadcrumbs, the directory's listing with
// its README rendered below, or one file (text with line numbers, an image, or a download).
import { lfsMissingNotice, lfsTag } from '../lfs.js';
import { card, notice, spinner } from '../components.js';
import { h, mount, svg } from '../dom.js';
import { fileBody, textOf } from '../file-view.js';
import { formatBytes, shortCommit, shortUrl } from '../format.js';
import { renderMarkdown } from '../markdown.js';
import {
  apiFileRoute,
  apiPathQuery,
  displayText,
  EMPTY_PATH,
  entryNameBytes,
  joinPath,
  lastSegment,
  pageHref,
  parentOf,
  pathOfPage,
  segmentsOf,
  textBytes,
  utf8OrNull,
} from '../snapshot-path.js';

const README = [/^readme\.(md|markdown)$/i, /^readme$/i, /^readme\.[^.]+$/i];
const MARKDOWN = /\.(md|markdown)$/i;
const TYPE_LABELS = { dir: 'Directory', file: 'File', executable: 'Executable file', symlink: 'Symbolic link' };

export function archiveFilesPage(view, ctx) {
  const [id] = ctx.params;
  const path = pathOfPage(window.location.pathname, ctx.query);
  const objectUrls = [];
  const track = (url) => (objectUrls.push(url), url);
  let disposed = false;
  ctx.setTitle('Files');
  const head = h('div', { class: 'page-head' }, h('h1', {}, 'Files'));
  const body = h('div', {}, spinner('Loading the files…'));
  mount(view, h('p', { class: 'back' }, h('a', { href: `/archives/${encodeURIComponent(id)}` }, '‹ Archive')), head, body);

  const fileFetcher = (filePath) => {
    let pending;
    return () => (pending ??= ctx.api.snapshotFile(apiFileRoute(id, filePath)));
  };

  async function load() {
    if (path === null) {
      mount(body, notice('error', 'This address does not name a path in the snapshot.'));
      return;
    }
    const archive = await ctx.api.getArchive(id);
    let listing;
    let fileEntry;
    try {
      listing = await ctx.api.snapshotTree(id, apiPathQuery(path));
    } catch (error) {
      if (error.code !== 'NOT_A_DIRECTORY') throw error;
      const parent = await ctx.api.snapshotTree(id, apiPathQuery(parentOf(path)));
      const name = lastSegment(path);
      fileEntry = parent.entries.find((entry) => sameBytes(entryNameBytes(entry), name));
      listing = parent;
    }
    if (disposed) return;
    ctx.setTitle(`${displayText(path.length ? lastSegment(path) : textBytes(shortUrl(archive.url)))} · files`);
    mount(head, h('h1', {}, shortUrl(archive.url)), breadcrumbs(id, archive, path), commitLine(listing.commit));
    if (fileEntry) mount(body, await fileCard(path, fileEntry));
    else mount(body, listingCard(id, path, listing.entries), await readmeCard(path, listing.entries));
  }

  async function fileCard(filePath, entry) {
    const name = displayText(lastSegment(filePath));
    const content = await fileBody(name, entry, fileFetcher(filePath), track);
    return card(
      h(
        'span',
        {},
        name,
        ' ',
        h('span', { class: 'card-meta' }, `${TYPE_LABELS[entry.type]} · ${formatBytes(entry.size ?? 0)}`),
        ' ',
        lfsTag(entry),
      ),
      lfsMissingNotice(entry),
      content,
    );
  }

  async function readmeCard(dir, entries) {
    const readme = README.map((pattern) => entries.find((e) => e.type !== 'dir' && pattern.test(e.name))).find(Boolean);
    if (!readme) return null;
    const readmePath = joinPath(dir, entryNameBytes(readme));
    try {
      const bytes = new Uint8Array(await (await fileFetcher(readmePath)()).arrayBuffer());
      const text = textOf(bytes);
      if (text === null) return null;
      const dirText = utf8OrNull(dir) ?? '';
      const content = MARKDOWN.test(readme.name)
        ? renderMarkdown(text, {
            dir: dirText,
            pageHrefOf: (target) => pageHref(id, textBytes(target)),
            loadImage: async (target) => track(URL.createObjectURL(await ctx.api.snapshotFile(apiFileRoute(id, textBytes(target))))),
          })
        : h('pre', { class: 'readme-text' }, text);
      return h(
        'section',
        { class: 'card readme', 'aria-labelledby': 'readme-title', 'data-testid': 'readme' },
        h('h2', { class: 'card-title', id: 'readme-title' }, readme.name),
        h('div', { class: 'markdown-body' }, content),
      );
    } catch (error) {
      return notice('warning', `The README could not be shown: ${error.message}`);
    }
  }

  load().catch((error) => {
    if (disposed) return;
    const gone = error.status === 404;
    ctx.setTitle(gone ? 'Not found' : 'Files');
    mount(body, notice('error', gone ? error.message : `Could not load the files: ${error.message}`));
  });

  return () => {
    disposed = true;
    for (const url of objectUrls) URL.revokeObjectURL(url);
  };
}

function sameBytes(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function commitLine(commit) {
  return commit ? h('p', { class: 'hint' }, 'Files of commit ', h('code', { title: commit }, shortCommit(commit))) : null;
}

function breadcrumbs(id, archive, path) {
  const crumbs = [{ label: shortUrl(archive.url), path: EMPTY_PATH }];
  let sofar = EMPTY_PATH;
  for (const segment of segmentsOf(path)) {
    sofar = joinPath(sofar, segment);
    crumbs.push({ label: displayText(segment), path: sofar });
  }
  return h(
    'nav',
    { class: 'breadcrumbs', 'aria-label': 'Path', 'data-testid': 'breadcrumbs' },
    h(
      'ol',
      {},
      crumbs.map((crumb, index) =>
        h(
          'li',
          {},
          index === crumbs.length - 1
            ? h('span', { 'aria-current': 'page' }, crumb.label)
            : h('a', { href: pageHref(id, crumb.path) }, crumb.label),
        ),
      ),
    ),
  );
}

const ICON_PATHS = {
  dir: 'M1.5 3.5h4l1.5 1.5h7.5v8h-13z',
  file: 'M3.5 1.5h6l3 3v10h-9z M9.5 1.5v3h3',
  symlink: 'M3.5 1.5h6l3 3v10h-9z M6 11l3.5-3.5 M7 7.5h2.5V10',
};

function icon(type) {
  return svg(
    'svg',
    { class: `file-icon file-icon-${type}`, viewBox: '0 0 16 16', width: '16', height: '16' },
    svg('path', { d: ICON_PATHS[type] ?? ICON_PATHS.file }),
  );
}

function listingCard(id, dir, entries) {
  const rows = entries.map((entry) => {
    const target = joinPath(dir, entryNameBytes(entry));
    return h(
      'tr',
      { 'data-type': entry.type },
      h('td', { class: 'col-icon', 'aria-hidden': 'true' }, icon(entry.type)),
      h(
        'td',
        { class: 'col-name' },
        h('a', { href: pageHref(id, target) }, entry.name, entry.type === 'dir' ? '/' : ''),
        h('span', { class: 'visually-hidden' }, ` (${TYPE_LABELS[entry.type]})`),
        lfsTag(entry),
      ),
      h('td', { class: 'col-num' }, entry.size === undefined ? '' : formatBytes(entry.size)),
    );
  });
  if (dir.length > 0) {
    rows.unshift(
      h(
        'tr',
        { 'data-type': 'parent' },
        h('td', { class: 'col-icon' }),
        h('td', { class: 'col-name' }, h('a', { href: pageHref(id, parentOf(dir)) }, '..')),
        h('td'),
      ),
    );
  }
  return h(
    'section',
    { class: 'card', 'aria-label': 'Directory listing' },
    entries.length === 0
      ? notice('info', 'This snapshot has no files (the repository had no commits).')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'table file-table', 'data-testid': 'tree-listing' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { class: 'col-icon' }, h('span', { class: 'visually-hidden' }, 'Type')),
                h('th', {}, 'Name'),
                h('th', { class: 'col-num' }, 'Size'),
              ),
            ),
            h('tbody', {}, rows),
          ),
        ),
  );
}
