// URLs typed into the submit form, kept in this tab's sessionStorage while they are being
// typed, so that a sign-in forced by an expired session (keycloak-js redirects the whole tab
// to Keycloak, from the session-status iframe or a refused token) does not lose them. They are
// restored when the form is drawn again and dropped once submitted or on log-out. Lines with
// credentials in them are never stored: the API refuses such URLs anyway, and secrets stay
// in memory only.

const KEY = 'archiver.draft-urls';
const CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]*@/i;

export function saveDraft(text) {
  const kept = text
    .split(/\r?\n/)
    .filter((line) => !CREDENTIALS.test(line.trim()))
    .join('\n');
  try {
    if (kept.trim() === '') sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, kept);
  } catch {
    // Storage disabled (private mode, policy): the form still works, only without this safety net.
  }
}

export function loadDraft() {
  try {
    return sessionStorage.getItem(KEY) ?? '';
  } catch {
    return '';
  }
}

export function clearDraft() {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Nothing was stored.
  }
}
