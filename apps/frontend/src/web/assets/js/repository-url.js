// A first look at a typed repository URL, before anything is sent: which transport it names,
// so the form can offer the matching credential kind and catch an obvious typo early. The
// API's URL policy (libs/git url-policy.ts) stays the judge of what is acceptable.

const SSH_SCHEME = /^ssh:\/\/[^@/\s]+@[^/\s]+\/\S+$/i;
// `git@host:owner/repo.git`, the address forges show for SSH clones (scp-like syntax).
const SCP_LIKE = /^[^@/:\s]+@(\[[^\]/\s]+\]|[^:/[\]\s]+):\S+$/;
const HTTP = /^https?:\/\/[^/\s]+(\/\S*)?$/i;

/** 'ssh', 'http', or null when the text cannot be a repository URL the archiver takes. */
export function repositoryUrlKind(text) {
  if (SSH_SCHEME.test(text) || SCP_LIKE.test(text)) return 'ssh';
  if (HTTP.test(text)) return 'http';
  return null;
}

/** The message for text that is not a repository URL, or '' when it might be one. */
export function repositoryUrlProblem(text) {
  if (!text) return 'Enter the URL of a git repository.';
  if (repositoryUrlKind(text)) return '';
  return 'Enter an https:// or http:// URL, or an SSH address such as ssh://git@host/owner/repo.git or git@host:owner/repo.git.';
}
