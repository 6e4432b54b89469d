// An independent CBOR reader for tests, written from RFC 8949 (not from cbor-x): it accepts only
// shortest heads (integers, lengths), no tags or indefinite lengths, and keeps floats apart from integers.

/** A float as the bytes carried it (major type 7), kept apart from integers. */
export class CborFloat {
  constructor(
    readonly value: number,
    readonly bytes: 2 | 4 | 8,
  ) {}
}

export class NotPreferredError extends Error {}

/** Decodes exactly one item filling `bytes`; throws NotPreferredError on any non-preferred or unsupported form. */
export function strictDecode(bytes: Uint8Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const fail = (why: string): never => {
    throw new NotPreferredError(`${why} at byte ${pos}`);
  };
  const need = (n: number) => {
    if (pos + n > bytes.length) fail('truncated');
  };

  /** The head's argument; rejects any argument a shorter head could have carried. */
  function argument(info: number): bigint {
    if (info < 24) return BigInt(info);
    const size =
      { 24: 1, 25: 2, 26: 4, 27: 8 }[info] ?? fail(`reserved or indefinite info ${info}`);
    need(size);
    let v = 0n;
    for (let i = 0; i < size; i++) v = (v << 8n) | BigInt(bytes[pos + i]!);
    pos += size;
    const min = { 1: 24n, 2: 0x100n, 4: 0x1_0000n, 8: 0x1_0000_0000n }[size]!;
    if (v < min) fail(`argument ${v} in a ${size}-byte head`);
    return v;
  }

  function item(): unknown {
    need(1);
    const first = bytes[pos++]!;
    const major = first >> 5;
    const info = first & 31;
    if (major === 7) {
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      if (info === 25) {
        need(2);
        pos += 2;
        return new CborFloat(half(view.getUint16(pos - 2)), 2);
      }
      if (info === 26) {
        need(4);
        pos += 4;
        return new CborFloat(view.getFloat32(pos - 4), 4);
      }
      if (info === 27) {
        need(8);
        pos += 8;
        return new CborFloat(view.getFloat64(pos - 8), 8);
      }
      return fail(`simple value ${info}`);
    }
    const arg = argument(info);
    switch (major) {
      case 0:
        return arg <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(arg) : arg;
      case 1:
        return arg < BigInt(Number.MAX_SAFE_INTEGER) ? -1 - Number(arg) : -1n - arg;
      case 2:
      case 3: {
        const n = Number(arg);
        need(n);
        const raw = bytes.subarray(pos, pos + n);
        pos += n;
        return major === 2
          ? Buffer.from(raw)
          : new TextDecoder('utf-8', { fatal: true }).decode(raw);
      }
      case 4:
        return Array.from({ length: Number(arg) }, () => item());
      case 5: {
        const out: Record<string, unknown> = {};
        for (let i = 0; i < Number(arg); i++) {
          const k = item();
          if (typeof k !== 'string') fail('a map key that is not a text string');
          Object.defineProperty(out, k as string, { value: item(), enumerable: true });
        }
        return out;
      }
      default:
        return fail(`tag ${arg}`);
    }
  }

  const value = item();
  if (pos !== bytes.length) fail('trailing bytes');
  return value;
}

/** IEEE 754 binary16 → number (RFC 8949 appendix D). */
function half(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (mant + 1024) * 2 ** (exp - 25);
}
