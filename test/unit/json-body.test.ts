import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { repeatedKey } from '../../src/api/json-body.ts';

describe('repeated JSON keys', () => {
  it('finds none in any JSON a serializer writes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(repeatedKey(JSON.stringify(v) ?? 'null')).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  it('finds a key written twice in one object, at any depth, whatever its escapes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ maxLength: 8 }), fc.jsonValue(), fc.nat(3), (other, key, value, depth) => {
        let text = `{${JSON.stringify(key)}:${JSON.stringify(value)},"x":${JSON.stringify(other) ?? 'null'},${JSON.stringify(key)}:1}`;
        for (let i = 0; i < depth; i++) text = `[{"k":${text}}]`;
        expect(repeatedKey(text)).toBe(key);
      }),
      { numRuns: 2000 },
    );
    expect(repeatedKey('{"a":1,"\\u0061":2}')).toBe('a');
    expect(repeatedKey('{"a":{"a":1},"b":[{"a":2},{"a":3}]}')).toBeUndefined();
  });
});
