import { describe, expect, it } from 'vitest';
import { topLevelKeys } from '../../src/util/json.ts';

describe('topLevelKeys: the top-level object keys in the order the text writes them', () => {
  it('keeps all-digit keys where the file has them (JSON.parse moves them first)', () => {
    const text = '{"b1": 1, "59341089": 2, "a2": 3, "7": 4}';
    expect(Object.keys(JSON.parse(text))).toEqual(['7', '59341089', 'b1', 'a2']);
    expect(topLevelKeys(text)).toEqual(['b1', '59341089', 'a2', '7']);
  });

  it('skips nested keys, string values that look like keys, and escapes', () => {
    const text = `{
      "x": {"inner": [1, {"deep": "\\"quoted\\", \\"fake\\": 1"}]},
      "y\\"z": ["a", "b"],
      "w": "v, \\"k\\": 2"
    }`;
    expect(topLevelKeys(text)).toEqual(Object.keys(JSON.parse(text)));
    expect(topLevelKeys(text)).toEqual(['x', 'y"z', 'w']);
  });

  it('gives nothing for an empty object', () => {
    expect(topLevelKeys('{}')).toEqual([]);
    expect(topLevelKeys(' { } ')).toEqual([]);
  });
});
