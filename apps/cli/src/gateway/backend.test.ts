// The node backend's error mapping: the fileserver's codes become the gateway's, so each front end
// answers them properly (a put a concurrent delete took: 409, not 500).

import { ConflictError, NoSpaceError, NotFoundError } from '@peerstash/gateway';
import { describe, expect, it } from 'vitest';
import { toGatewayError } from './backend.js';

const coded = (code: string) => Object.assign(new Error(`failed with ${code}`), { code });

describe('toGatewayError', () => {
  it('maps the node codes the front ends answer specially', () => {
    const deleted = toGatewayError(coded('ERR_DELETED'));
    expect(deleted).toBeInstanceOf(ConflictError);
    expect(deleted).toMatchObject({ code: 'ERR_CONFLICT', message: 'failed with ERR_DELETED' });
    expect(toGatewayError(coded('ERR_NOT_FOUND'))).toBeInstanceOf(NotFoundError);
    expect(toGatewayError(coded('ERR_NO_SPACE'))).toBeInstanceOf(NoSpaceError);
  });

  it('leaves an error it has no mapping for as it was', () => {
    const odd = coded('ERR_SOMETHING_ELSE');
    expect(toGatewayError(odd)).toBe(odd);
  });
});
