// Git LFS in the snapshot browser: a file whose content is a Git LFS object is tagged with the
// object's real size; one whose object was not archived says so and why (tree entries' `lfs*`).
import { card, notice } from './components.js';
import { h } from './dom.js';
import { formatBytes, formatNumber } from './format.js';

/** The tag after a name in a listing: "LFS · 12 MB", or "LFS missing" with the reason as a tooltip. */
export function lfsTag(entry) {
  if (!entry.lfs) return null;
  if (entry.lfsStatus === 'missing') {
    return h(
      'span',
      { class: 'lfs-tag lfs-missing', 'data-testid': 'lfs-tag', 'data-lfs': 'missing', title: entry.lfsMissing?.message ?? '' },
      'LFS missing',
    );
  }
  return h(
    'span',
    { class: 'lfs-tag', 'data-testid': 'lfs-tag', 'data-lfs': 'stored' },
    `LFS · ${formatBytes(entry.lfsSize ?? entry.size ?? 0)}`,
  );
}

/** Shown above a missing LFS object's file: its content is not in the archive, and why; what follows is the pointer. */
export function lfsMissingNotice(entry) {
  if (!entry.lfs || entry.lfsStatus !== 'missing') return null;
  const reason = entry.lfsMissing;
  return h(
    'div',
    { 'data-testid': 'lfs-missing' },
    notice(
      'warning',
      h('p', {}, `This file is stored with Git LFS and its content (${formatBytes(entry.lfsSize ?? 0)}) is not in the archive.`),
      reason ? h('p', {}, 'Why: ', reason.message, ' ', h('code', {}, reason.code)) : null,
      h('p', {}, 'Below is the LFS pointer the repository holds in its place.'),
    ),
  );
}

/** The archive detail page's LFS card (GET /api/archives/:id `lfs`), or null when it has none. */
export function lfsSummaryCard(lfs) {
  if (!lfs || (lfs.objects === 0 && (lfs.missing?.length ?? 0) === 0)) return null;
  const missing = lfs.missing ?? [];
  return card(
    'Git LFS',
    h(
      'p',
      { 'data-testid': 'lfs-summary' },
      `${formatNumber(lfs.objects)} LFS object${lfs.objects === 1 ? '' : 's'} archived · ${formatBytes(lfs.bytes ?? 0)}`,
      missing.length ? ` · ${missing.length} missing` : '',
    ),
    missing.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'table', 'data-testid': 'lfs-missing-list' },
            h('caption', { class: 'visually-hidden' }, 'LFS objects that are not in the archive'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Path', 'Object', 'Reason'].map((label) => h('th', { scope: 'col' }, label)),
              ),
            ),
            h(
              'tbody',
              {},
              missing.map((item) =>
                h(
                  'tr',
                  {},
                  h('td', {}, h('code', {}, item.path)),
                  h('td', {}, h('code', { class: 'mono', title: item.oid }, item.oid.slice(0, 12))),
                  h('td', {}, item.reason),
                ),
              ),
            ),
          ),
        )
      : null,
  );
}
