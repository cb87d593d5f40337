// The REST API (issue 3's contract) as functions. Every call carries the access token; errors
// come back as ApiError holding the API's own `{"error": {code, message}}`.

export class ApiError extends Error {
  constructor(status, code, message, retryAfterSeconds) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    /** From a 429's Retry-After header: when asking again can succeed. */
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function createApi(apiBase, session) {
  async function request(method, path, body) {
    const headers = { accept: 'application/json', authorization: `Bearer ${await session.accessToken()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await fetch(`${apiBase}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // Our own API only: no cookies are sent or stored (there are none to steal).
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'NETWORK', 'The archiver cannot be reached. Check your connection; the page retries on its own.');
    }
    const data = response.status === 204 ? undefined : await response.json().catch(() => undefined);
    if (response.status === 401) {
      // The token was refused (e.g. the session was revoked): a fresh sign-in fixes that.
      await session.signInAgain();
    }
    if (!response.ok) {
      const error = data?.error;
      throw new ApiError(
        response.status,
        error?.code ?? `HTTP_${response.status}`,
        error?.message ?? `The server answered ${response.status} ${response.statusText}. Try again in a moment.`,
        Number(response.headers.get('retry-after')) || undefined,
      );
    }
    return data;
  }

  /** A file's bytes as a Blob (the bearer token rules out a plain link); errors as for request(). */
  async function requestBlob(path) {
    let response;
    try {
      response = await fetch(`${apiBase}${path}`, {
        headers: { authorization: `Bearer ${await session.accessToken()}` },
        credentials: 'omit',
      });
    } catch {
      throw new ApiError(0, 'NETWORK', 'The archiver cannot be reached. Check your connection and try again.');
    }
    if (response.ok) return response.blob();
    const data = await response.json().catch(() => undefined);
    if (response.status === 401) await session.signInAgain();
    throw new ApiError(
      response.status,
      data?.error?.code ?? `HTTP_${response.status}`,
      data?.error?.message ?? `The server answered ${response.status} ${response.statusText}. Try again in a moment.`,
    );
  }

  /**
   * Hands this admin's token to the queue dashboard as an HttpOnly cookie scoped to
   * /admin/queues (the one response whose cookie the browser must keep: hence same-origin).
   */
  async function openQueueBoard() {
    let response;
    try {
      response = await fetch(`${apiBase}/admin/queue-board/session`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await session.accessToken()}` },
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'NETWORK', 'The archiver cannot be reached. Check your connection and try again.');
    }
    if (response.ok) return;
    const data = await response.json().catch(() => undefined);
    throw new ApiError(
      response.status,
      data?.error?.code ?? `HTTP_${response.status}`,
      data?.error?.message ?? `The server answered ${response.status} ${response.statusText}. Try again in a moment.`,
    );
  }

  const query = (params) => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params))
      if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
    const text = search.toString();
    return text ? `?${text}` : '';
  };

  return {
    listArchives: ({ scope, status, page, pageSize }) => request('GET', `/archives${query({ scope, status, page, pageSize })}`),
    getArchive: (id) => request('GET', `/archives/${encodeURIComponent(id)}`),
    /** `credential` (optional) is sent once, for this archive's clone only. */
    submit: (url, credential) => request('POST', '/archives', credential ? { url, credential } : { url }),
    submitBatch: (urls) => request('POST', '/archives/batch', { urls }),
    deleteArchive: (id) => request('DELETE', `/archives/${encodeURIComponent(id)}`),
    downloadLink: (id) => request('GET', `/archives/${encodeURIComponent(id)}/download`),
    restorePlan: (id) => request('GET', `/archives/${encodeURIComponent(id)}/restore`),
    verifyArchive: (id) => request('POST', `/archives/${encodeURIComponent(id)}/verify`),
    /** `pathQuery` and `fileRoute` come from snapshot-path.js (apiPathQuery, apiFileRoute). */
    snapshotTree: (id, pathQuery) => request('GET', `/archives/${encodeURIComponent(id)}/tree${pathQuery}`),
    snapshotFile: (fileRoute) => requestBlob(fileRoute),
    stats: () => request('GET', '/stats'),
    listRepositories: ({ state, q, page, pageSize }) => request('GET', `/repositories${query({ state, q, page, pageSize })}`),
    getRepository: (id, { visitsPage, visitsPageSize } = {}) =>
      request('GET', `/repositories/${encodeURIComponent(id)}${query({ visitsPage, visitsPageSize })}`),
    trackRepository: (url, intervalHours, credential) => request('POST', '/repositories', { url, intervalHours, credential }),
    /** `credential` null removes it. */
    setRepositoryCredential: (id, credential) => request('PATCH', `/repositories/${encodeURIComponent(id)}`, { credential }),
    updateRepository: (id, change) => request('PATCH', `/repositories/${encodeURIComponent(id)}`, change),
    visitRepository: (id) => request('POST', `/repositories/${encodeURIComponent(id)}/visits`),
    untrackRepository: (id) => request('DELETE', `/repositories/${encodeURIComponent(id)}`),
    openQueueBoard,
    createImport: (body) => request('POST', '/imports', body),
    listImports: ({ page, pageSize } = {}) => request('GET', `/imports${query({ page, pageSize })}`),
    getImport: (id) => request('GET', `/imports/${encodeURIComponent(id)}`),
    listWebhooks: ({ scope, page, pageSize } = {}) => request('GET', `/webhooks${query({ scope, page, pageSize })}`),
    createWebhook: (webhook) => request('POST', '/webhooks', webhook),
    updateWebhook: (id, change) => request('PATCH', `/webhooks/${encodeURIComponent(id)}`, change),
    testWebhook: (id) => request('POST', `/webhooks/${encodeURIComponent(id)}/test`),
    deleteWebhook: (id) => request('DELETE', `/webhooks/${encodeURIComponent(id)}`),
    webhookDeliveries: (id, { page, pageSize } = {}) =>
      request('GET', `/webhooks/${encodeURIComponent(id)}/deliveries${query({ page, pageSize })}`),
    repositoryChanges: (id, { from, to } = {}) => request('GET', `/repositories/${encodeURIComponent(id)}/changes${query({ from, to })}`),
    retentionPreview: (id, policy) => request('GET', `/repositories/${encodeURIComponent(id)}/retention/preview${query(policy)}`),
    setRetention: (id, policy) => request('PUT', `/repositories/${encodeURIComponent(id)}/retention`, policy),
    pruneRepository: (id) => request('POST', `/repositories/${encodeURIComponent(id)}/prune`),
  };
}
