// A README rendered from Markdown without ever running what it carries: marked turns it into
// HTML text, DOMPurify parses that in an inert document and hands back clean DOM nodes (no
// innerHTML anywhere in our code), and links and images are then pointed inside the snapshot.
// The strict CSP stays the second line of defence: inline styles and scripts would not apply.
import DOMPurify from '/vendor/dompurify/purify.es.mjs';
import { Marked } from '/vendor/marked/marked.esm.js';
import { h } from './dom.js';

/**
 * Chromium applies the page's CSP even while DOMPurify parses into its inert document, so each
 * inline handler or style attribute in a README's raw HTML would log a (harmless) violation.
 * They are cut from marked's raw-HTML tokens first. Not a sanitizer — DOMPurify is, and would
 * remove anything this misses; this only keeps the console clean.
 */
const INLINE_ATTRIBUTE = /\s(?:on[a-z]+|style)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)/gi;
const markdown = new Marked({
  gfm: true,
  async: false,
  walkTokens(token) {
    if (token.type === 'html') token.text = token.text.replace(INLINE_ATTRIBUTE, '');
  },
});

const PURIFY_OPTIONS = {
  RETURN_DOM_FRAGMENT: true,
  // Inline styles would only trip the CSP; forms and controls have no business in a README.
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'option'],
  FORBID_ATTR: ['style'],
};
const EXTERNAL = /^[a-z][a-z0-9+.-]*:/i;

/**
 * `text` (a Markdown document in directory `dir`, a path text relative to the snapshot's root)
 * as a DocumentFragment. `pageHrefOf(pathText)` is the address of the page showing a path;
 * `loadImage(pathText)` resolves to an object URL for an image in the snapshot. Images from
 * elsewhere would be other origins the CSP blocks: they become links instead.
 */
export function renderMarkdown(text, { dir, pageHrefOf, loadImage }) {
  const fragment = DOMPurify.sanitize(markdown.parse(text), PURIFY_OPTIONS);
  for (const link of fragment.querySelectorAll('a[href]')) {
    const href = link.getAttribute('href');
    link.setAttribute('rel', 'noopener noreferrer');
    if (EXTERNAL.test(href)) {
      link.setAttribute('target', '_blank');
      link.dataset.external = '';
    } else if (!href.startsWith('#')) {
      const target = resolveInSnapshot(dir, href);
      link.setAttribute('href', `${pageHrefOf(target.path)}${target.hash}`);
    }
  }
  for (const image of fragment.querySelectorAll('img')) {
    const src = image.getAttribute('src') ?? '';
    image.removeAttribute('src');
    if (src.startsWith('data:')) {
      image.setAttribute('src', src);
    } else if (EXTERNAL.test(src) || src === '') {
      image.replaceWith(h('a', { href: src, rel: 'noopener noreferrer', target: '_blank', 'data-external': '' }, image.alt || src));
    } else {
      loadImage(resolveInSnapshot(dir, src).path).then(
        (url) => image.setAttribute('src', url),
        () => image.replaceWith(h('span', { class: 'muted' }, image.alt ? `[${image.alt}]` : '')),
      );
    }
  }
  return fragment;
}

/** `../x.md#part` seen from directory `dir`: a path from the root (never above it) and the hash. */
export function resolveInSnapshot(dir, href) {
  const url = new URL(href, `http://snapshot/${dir ? `${dir.split('/').map(encodeURIComponent).join('/')}/` : ''}`);
  let path;
  try {
    path = decodeURIComponent(url.pathname.slice(1));
  } catch {
    path = url.pathname.slice(1);
  }
  return { path: path.replace(/\/+$/, ''), hash: url.hash };
}
