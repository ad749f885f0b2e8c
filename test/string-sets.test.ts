import { describe, expect, it } from 'vitest';
import { StringSets } from '../src/string-sets.js';

describe('StringSets', () => {
  it('behaves as a Map of Sets: adds once, deletes, forgets empty sets, keeps insertion order', () => {
    const sets = new StringSets();
    expect(sets.add('h', 'a')).toBe(true);
    expect(sets.add('h', 'a')).toBe(false);
    expect(sets.add('h', 'b')).toBe(true);
    expect(sets.size('h')).toBe(2);
    expect(sets.delete('h', 'a')).toBe(true);
    expect(sets.delete('h', 'a')).toBe(false);
    expect(sets.add('h', 'a')).toBe(true);
    expect([...sets.members('h')]).toEqual(['b', 'a']);
    expect(sets.delete('h', 'b') && sets.delete('h', 'a')).toBe(true);
    expect(sets.size('h')).toBe(0);
    expect([...sets.members('h')]).toEqual([]);
    expect(sets.delete('other', 'a')).toBe(false);
  });
});
