// The fields of a private repository's credential: a token, a user name and password, or an SSH
// deploy key (with the server's host key, optional). The secret lives only in these inputs'
// values until it is sent, and `clear()` empties them right after: it is never written into an
// attribute, a URL, localStorage or sessionStorage, and the API never gives it back.
import { h, uid } from './dom.js';

export const CREDENTIAL_KINDS = [
  { kind: 'token', label: 'Token' },
  { kind: 'basic', label: 'Username and password' },
  { kind: 'ssh', label: 'SSH deploy key' },
];

export const CREDENTIAL_KIND_LABELS = { token: 'token', basic: 'username and password', ssh: 'SSH key' };

const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/**
 * Explains, beside the credential, what an API refusal or a failed visit's code means for it.
 * Returns null for codes that are not about the credential.
 */
export function credentialProblem(code, message) {
  switch (code) {
    case 'CREDENTIAL_INVALID':
      return message;
    case 'CREDENTIAL_ALREADY_SET':
      return message;
    case 'AUTH_REQUIRED':
      return `The repository refused the credential (${message}). Check that the token or password is current and may read the repository, then replace it.`;
    case 'HOST_KEY_CHANGED':
      return `The SSH server's host key is not the one pinned for this repository (${message}). If the server's key really changed, replace the credential with the deploy key and the new host key (ssh-keyscan -t ed25519 <host> prints it) to accept it.`;
    default:
      return null;
  }
}

/** An explanation followed by the request to type the (emptied) credential again. */
export function enterAgain(text) {
  return `${text}${/[.!?]$/.test(text.trim()) ? '' : '.'} Enter the credential again.`;
}

function secretInput(name, label, { multiline = false, required = true, hint } = {}) {
  const id = uid(`credential-${name}`);
  const attrs = {
    id,
    name,
    class: multiline ? 'textarea' : 'input',
    autocomplete: 'off',
    spellcheck: 'false',
    autocapitalize: 'off',
    'data-credential-field': name,
  };
  const input = multiline
    ? h('textarea', { ...attrs, rows: '5' })
    : h('input', { ...attrs, type: name === 'username' ? 'text' : 'password' });
  const element = h(
    'div',
    { class: 'credential-field' },
    h('label', { for: id, class: 'label' }, label, required ? null : h('span', { class: 'muted' }, ' (optional)')),
    hint ? h('p', { class: 'hint' }, hint) : null,
    input,
  );
  return { input, element };
}

/**
 * `urlKind()` says which transport the repository URL names ('ssh', 'http' or null), so the
 * right kind is preselected and a mismatch is caught before sending.
 */
export function credentialFields({ urlKind = () => null } = {}) {
  const kindName = uid('credential-kind');
  const errorId = uid('credential-error');
  const radios = CREDENTIAL_KINDS.map(({ kind, label }) => {
    const input = h('input', { type: 'radio', name: kindName, value: kind, checked: kind === 'token' });
    return { kind, input, element: h('label', { class: 'credential-kind' }, input, ` ${label}`) };
  });
  const fields = {
    token: secretInput('token', 'Access token', { hint: 'A personal or project access token that may read the repository.' }),
    tokenUser: secretInput('username', 'User name', { required: false, hint: 'Only if the forge wants one with the token.' }),
    username: secretInput('username', 'User name'),
    password: secretInput('password', 'Password'),
    privateKey: secretInput('privateKey', 'Private key', {
      multiline: true,
      hint: 'The whole deploy key without a passphrase, from its -----BEGIN … PRIVATE KEY----- line on.',
    }),
    hostKey: secretInput('hostKey', 'Server host key', {
      multiline: true,
      required: false,
      hint: 'As ssh-keyscan prints it. Left empty, the key the server shows at the first visit is pinned.',
    }),
  };
  const groups = {
    token: h('div', { class: 'credential-group', 'data-kind': 'token' }, fields.token.element, fields.tokenUser.element),
    basic: h('div', { class: 'credential-group', 'data-kind': 'basic' }, fields.username.element, fields.password.element),
    ssh: h('div', { class: 'credential-group', 'data-kind': 'ssh' }, fields.privateKey.element, fields.hostKey.element),
  };
  const fieldError = h('p', { id: errorId, class: 'field-error', hidden: true, role: 'alert', 'data-testid': 'credential-error' });
  const element = h(
    'div',
    { class: 'credential-fields', 'data-testid': 'credential-fields' },
    h(
      'fieldset',
      { class: 'credential-kinds' },
      h('legend', { class: 'label' }, 'Kind'),
      radios.map((r) => r.element),
    ),
    Object.values(groups),
    fieldError,
    h('p', { class: 'hint' }, 'Stored encrypted and never shown again. These fields are emptied once it is sent.'),
  );

  const kind = () => radios.find((r) => r.input.checked)?.kind ?? 'token';
  function showKind() {
    for (const [name, group] of Object.entries(groups)) group.hidden = name !== kind();
  }
  for (const radio of radios) radio.input.addEventListener('change', () => (showKind(), setError('')));
  for (const field of Object.values(fields)) field.input.addEventListener('input', () => setError(''));
  showKind();

  function setError(message) {
    fieldError.textContent = message ?? '';
    fieldError.hidden = !message;
    for (const field of Object.values(fields)) {
      if (message) field.input.setAttribute('aria-describedby', errorId);
      else field.input.removeAttribute('aria-describedby');
    }
  }

  /** Picks the kind that fits the URL (an SSH key for SSH addresses) unless one that fits is chosen. */
  function matchUrl() {
    const transport = urlKind();
    if (!transport) return;
    const fits = transport === 'ssh' ? kind() === 'ssh' : kind() !== 'ssh';
    if (fits) return;
    const wanted = transport === 'ssh' ? 'ssh' : 'token';
    for (const radio of radios) radio.input.checked = radio.kind === wanted;
    showKind();
  }

  /**
   * The credential as the API takes it, or `{error}` naming what to fix. Checks only what can be
   * told here; the API checks the key with ssh-keygen.
   */
  function read() {
    const value = (field) => field.input.value;
    const chosen = kind();
    const transport = urlKind();
    if (transport === 'ssh' && chosen !== 'ssh')
      return { error: 'This is an SSH address: give an SSH deploy key, or track its https:// URL with a token.' };
    if (transport === 'http' && chosen === 'ssh')
      return { error: 'An SSH key cannot log in over http(s): give a token or a user name and password, or use the SSH address.' };
    if (chosen === 'token') {
      if (!value(fields.token)) return { error: 'Enter the access token.', focus: fields.token.input };
      const username = value(fields.tokenUser).trim();
      return {
        credential: username ? { kind: 'token', token: value(fields.token), username } : { kind: 'token', token: value(fields.token) },
      };
    }
    if (chosen === 'basic') {
      if (!value(fields.username).trim()) return { error: 'Enter the user name.', focus: fields.username.input };
      if (!value(fields.password)) return { error: 'Enter the password.', focus: fields.password.input };
      return { credential: { kind: 'basic', username: value(fields.username).trim(), password: value(fields.password) } };
    }
    const privateKey = value(fields.privateKey).trim();
    if (!PRIVATE_KEY.test(privateKey))
      return {
        error: 'Paste the whole private key, from its -----BEGIN … PRIVATE KEY----- line to its -----END … line.',
        focus: fields.privateKey.input,
      };
    const hostKey = value(fields.hostKey).trim();
    return {
      credential: hostKey ? { kind: 'ssh', privateKey: `${privateKey}\n`, hostKey } : { kind: 'ssh', privateKey: `${privateKey}\n` },
    };
  }

  function clear() {
    for (const field of Object.values(fields)) field.input.value = '';
  }

  return { element, read, clear, setError, matchUrl, focus: () => (radios.find((r) => r.input.checked) ?? radios[0]).input.focus() };
}
