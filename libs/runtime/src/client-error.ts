import type { Duplex } from 'node:stream';

interface Answer {
  status: number;
  reason: string;
  code: string;
  message: string;
}

/**
 * Node's own answers to requests it cannot parse (a 431 for a URL or headers over its 16 KiB
 * limit, a 400 for a malformed request line or conflicting Content-Length and
 * Transfer-Encoding, a 408 at the request bound) have an empty body; the API's rule is a JSON
 * error a person can act on, whatever the input, so these say what was wrong too.
 */
function answerFor(error: NodeJS.ErrnoException): Answer {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        reason: 'Request Header Fields Too Large',
        code: 'HEADERS_TOO_LARGE',
        message: 'The URL and headers together are larger than 16 KiB; shorten the query string or the headers',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        reason: 'Request Timeout',
        code: 'REQUEST_TIMEOUT',
        message: 'The request was not received in time; send the whole request at once',
      };
    default:
      return {
        status: 400,
        reason: 'Bad Request',
        code: 'INVALID_REQUEST',
        message: `The request is not valid HTTP/1.1 (${error.code ?? 'unparsable'}); check the request line and the Content-Length / Transfer-Encoding headers`,
      };
  }
}

/** The raw response for a request Node's parser refused, or undefined when the socket should just close. */
export function clientErrorResponse(error: NodeJS.ErrnoException): string | undefined {
  // The peer went away; nobody is left to read an answer.
  if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return undefined;
  const { status, reason, code, message } = answerFor(error);
  const body = JSON.stringify({ error: { code, message } });
  return (
    `HTTP/1.1 ${status} ${reason}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/**
 * The server's 'clientError' listener (which replaces Node's default answer). There is no
 * request or response object then, so the answer is written to the socket directly, and only
 * when nothing was written on it yet: a response already under way cannot be amended.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  const response =
    socket.writable && !(socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent
      ? clientErrorResponse(error)
      : undefined;
  if (response === undefined) {
    socket.destroy();
    return;
  }
  socket.end(response);
}
