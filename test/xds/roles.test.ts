import { describe, expect, it } from 'vitest';
import { rolesForNode } from '../../src/xds/roles.js';
import { node } from './ads-client.js';

describe('rolesForNode', () => {
  it('reads node.cluster', () => {
    expect(rolesForNode(node('n', 'ferry-external'))).toEqual(['external']);
    expect(rolesForNode(node('n', 'ferry-local'))).toEqual(['local']);
    expect(rolesForNode(node('n', 'ferry-both'))).toEqual(['external', 'local']);
  });

  it('lets node metadata win over node.cluster', () => {
    expect(rolesForNode(node('n', 'ferry-external', { 'ferry.knative.dev/roles': 'local' }))).toEqual(['local']);
    expect(rolesForNode(node('n', 'x', { 'ferry.knative.dev/roles': ' Local , external' }))).toEqual(['external', 'local']);
  });

  it('defaults to external only, so that cluster-local hosts never reach an unknown gateway', () => {
    expect(rolesForNode(undefined)).toEqual(['external']);
    expect(rolesForNode(node('n', 'something-else'))).toEqual(['external']);
    expect(rolesForNode(node('n', '', { 'ferry.knative.dev/roles': 'bogus' }))).toEqual(['external']);
  });
});
