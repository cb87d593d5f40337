// How one file of a snapshot is shown: text with line numbers, an image as an image, anything
// else (binary, or too big to show) as a download.
import { notice } from './components.js';
import { h } from './dom.js';
import { formatBytes } from './format.js';

/** Bigger files are offered for download only: a browser page of 1 MB of lines is already slow. */
export const MAX_SHOWN_BYTES = 1024 * 1024;
const IMAGE = /\.(png|jpe?g|gif|webp|avif|bmp)$/i;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of `bytes` when they look like text (UTF-8, no NUL byte), else null. */
export function textOf(bytes) {
  if (bytes.includes(0)) return null;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

export function isImageName(name) {
  return IMAGE.test(name);
}

/** Lines with their numbers; the numbers stay out of a copied selection. */
export function lineNumbered(text) {
  const lines = text.split('\n');
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  return h(
    'div',
    { class: 'code-view', 'data-testid': 'file-lines' },
    lines.map((line, index) =>
      h(
        'div',
        { class: 'code-line', 'data-line': String(index + 1) },
        h('span', { class: 'line-no', 'aria-hidden': 'true' }, String(index + 1)),
        h('code', { class: 'line-text' }, line),
      ),
    ),
  );
}

/** Saves a Blob under `name` through an object URL (a plain link could not carry the token). */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has taken its copy once the click is handled; a minute is ample.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A "Download" button fetching the bytes when pressed. */
export function downloadButton(name, fetchBlob, label = 'Download') {
  const status = h('span', { class: 'hint', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'button button-primary', 'data-testid': 'file-download' }, label);
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.textContent = '';
    try {
      saveBlob(await fetchBlob(), name);
    } catch (error) {
      status.textContent = `Could not download: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  });
  return h('span', { class: 'download' }, button, status);
}

/**
 * The body of a file page. `entry` is the file's listing entry; `fetchBlob()` its bytes;
 * `track(url)` registers an object URL to revoke when the page goes.
 */
export async function fileBody(name, entry, fetchBlob, track) {
  const download = downloadButton(name, fetchBlob);
  if (entry.type === 'symlink') {
    const target = await (await fetchBlob()).text();
    return h('div', {}, notice('info', 'A symbolic link to ', h('code', { 'data-testid': 'symlink-target' }, target)));
  }
  if ((entry.size ?? 0) > MAX_SHOWN_BYTES) {
    return h(
      'div',
      { 'data-testid': 'file-binary' },
      notice('info', `This file is ${formatBytes(entry.size)}, too big to show here. Download it instead.`),
      download,
    );
  }
  const blob = await fetchBlob();
  if (isImageName(name)) {
    const url = track(URL.createObjectURL(blob));
    return h('div', { class: 'file-image' }, h('img', { src: url, alt: name, 'data-testid': 'file-image' }), download);
  }
  const text = textOf(new Uint8Array(await blob.arrayBuffer()));
  if (text === null) {
    return h('div', { 'data-testid': 'file-binary' }, notice('info', 'This file is binary; it cannot be shown as text.'), download);
  }
  return h('div', {}, h('div', { class: 'file-actions' }, download), lineNumbered(text));
}
