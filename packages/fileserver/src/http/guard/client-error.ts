// Answers what node:http's parser refuses (bad framing, a malformed chunk, garbage after a
// request, headers too large or too slow) with a status line and a JSON error, where it still can.

import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { CODES, nodeErrorCode } from '../../errors.js';

/** The raw response on the socket: the parser has given up, so there is no ServerResponse for it. */
export function rawResponse(status: number, reason: string, code: string, message: string): string {
  const body = `${JSON.stringify({ code, message })}\n`;
  return (
    `HTTP/1.1 ${status} ${reason}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Cache-Control: no-store\r\nConnection: close\r\n\r\n' +
    body
  );
}

function answerFor(err: Error, maxHeaderSize: number): string {
  switch (nodeErrorCode(err)) {
    case CODES.LIMIT:
      return rawResponse(
        431,
        'Request Header Fields Too Large',
        CODES.LIMIT,
        `request headers exceed ${maxHeaderSize} bytes`,
      );
    case CODES.TIMEOUT:
      return rawResponse(408, 'Request Timeout', CODES.TIMEOUT, 'request headers too slow');
    default:
      return rawResponse(400, 'Bad Request', CODES.BAD_REQUEST, 'malformed HTTP request');
  }
}

/**
 * A 'clientError' listener. With no response in flight, or one that has not sent its headers
 * yet (a body that broke off mid-chunk, garbage pipelined after a request still being handled),
 * the client gets the status line; then the socket is destroyed, which aborts the request in
 * flight, so nothing it was sending is kept. A response already under way can only be cut.
 */
export function answerClientError(maxHeaderSize: number) {
  return (err: Error, socket: Socket): void => {
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    // destroyed once the answer is out: a client that never closes its side holds nothing
    socket.end(answerFor(err, maxHeaderSize), () => socket.destroy());
    setTimeout(() => socket.destroy(), 1000).unref();
  };
}
