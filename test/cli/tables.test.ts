import { describe, expect, it } from 'vitest';
import { renderObjects, parseKind } from '../../src/cli/get.js';
import { formatTable } from '../../src/cli/output.js';
import { notSynced, parseDuration, renderStatus } from '../../src/cli/status.js';
import type { StatusReport } from '../../src/status/views.js';

const synced = (api: string, type: string) => ({ type, api, sentVersion: 'v2', ackedVersion: 'v2', currentVersion: 'v2', state: 'SYNCED' as const });

const report: StatusReport = {
  pass: 4,
  gateways: [
    { nodeId: 'gw-external-1', nodeCluster: 'external', roles: ['external'], address: '10.0.0.7:41234', protocol: 'delta', connectedAt: '2026-01-01T00:00:00.000Z', synced: false,
      types: [
        { type: 'clusters', api: 'CDS', sentVersion: 'v3', ackedVersion: 'v2', currentVersion: 'v3', state: 'NACKED', error: 'Proto constraint validation failed (ClusterValidationError.ConnectTimeout)' },
        synced('EDS', 'endpoints'), synced('LDS', 'listeners'), synced('RDS', 'routes'),
      ] },
    { nodeId: 'gw-local', nodeCluster: 'local', roles: ['local'], address: '10.0.0.8:5000', protocol: 'sotw', connectedAt: '2026-01-01T00:00:00.000Z', synced: false,
      types: [synced('CDS', 'clusters'), synced('EDS', 'endpoints'), synced('LDS', 'listeners'),
        { type: 'routes', api: 'RDS', sentVersion: 'v5', ackedVersion: 'v4', currentVersion: 'v5', state: 'STALE' }] },
  ],
  nacks: [{ nodeId: 'gw-external-1', type: 'clusters', version: 'v3', resources: ['default/bad:80'], message: 'Proto constraint validation failed (ClusterValidationError.ConnectTimeout)', time: '2026-01-01T00:00:00.000Z' }],
  problems: [{ severity: 'error', message: 'a.yaml (document 2) Ingress default/x: spec.rules[0].hosts: must not be empty' }],
};

describe('kubectl-style tables', () => {
  it('aligns columns under upper-case headers, without borders or trailing spaces', () => {
    expect(formatTable(['name', 'ready'], [['a-long-name', 'True'], ['b', 'False']])).toBe('NAME          READY\na-long-name   True\nb             False\n');
  });

  it('renders ferry status: a row per gateway, a state per API, then NACK messages and manifest problems', () => {
    expect(renderStatus(report)).toBe(
`NODE            ROLE       ADDRESS          CDS      EDS      SDS   LDS      SRDS   RDS
gw-external-1   external   10.0.0.7:41234   NACKED   SYNCED   -     SYNCED   -      SYNCED
gw-local        local      10.0.0.8:5000    SYNCED   SYNCED   -     SYNCED   -      STALE

NACKs (the gateway keeps its last good version):
  gw-external-1 CDS version v3 (default/bad:80): Proto constraint validation failed (ClusterValidationError.ConnectTimeout)

Manifest problems:
  error: a.yaml (document 2) Ingress default/x: spec.rules[0].hosts: must not be empty
`);
    expect(notSynced(report)).toEqual([
      'gw-external-1 CDS: NACKED: Proto constraint validation failed (ClusterValidationError.ConnectTimeout)',
      'gw-local RDS: STALE (sent v5, acked v4, current v5)',
    ]);
    expect(renderStatus({ ...report, gateways: [], problems: [] })).toBe('No gateway is connected to Ferry.\n');
    expect(notSynced({ ...report, gateways: [] })).toEqual(['no gateway is connected to Ferry']);
  });

  it('lists resources a gateway rejects while the rest of their type is synced, and --wait counts them', () => {
    const isolated: StatusReport = {
      pass: 5,
      gateways: [{ nodeId: 'gw-1', nodeCluster: 'both', roles: ['external', 'local'], address: '10.0.0.9:4000', protocol: 'delta', connectedAt: '2026-01-01T00:00:00.000Z', synced: true,
        types: [synced('CDS', 'clusters'), synced('SDS', 'secrets')] }],
      nacks: [{ nodeId: 'gw-1', type: 'secrets', version: 'v7', resources: ['default/cert-a'], message: 'Failed to load certificate chain\nfrom <inline>', time: '2026-01-01T00:00:00.000Z' }],
      problems: [],
    };
    expect(renderStatus(isolated)).toBe(
`NODE   ROLE             ADDRESS         CDS      EDS   SDS      LDS   SRDS   RDS
gw-1   external,local   10.0.0.9:4000   SYNCED   -     SYNCED   -     -      -

Rejected resources (the gateway keeps their last good version; everything else it took):
  gw-1 secrets default/cert-a: Failed to load certificate chain from <inline>
`);
    expect(notSynced(isolated)).toEqual(['gw-1 secrets default/cert-a: REJECTED: Failed to load certificate chain from <inline>']);
  });

  it('renders ferry get like kn, with a NAMESPACE column for all namespaces', () => {
    const row = { kind: 'Route', namespace: 'prod', name: 'hello', url: 'http://hello.prod.example.com', ready: 'Unknown' as const, reason: 'NoGateway', message: '', conditions: [] };
    expect(renderObjects([row], true)).toBe('NAMESPACE   NAME    URL                             READY     REASON\nprod        hello   http://hello.prod.example.com   Unknown   NoGateway\n');
    expect(renderObjects([], false)).toBe('No resources found.\n');
    expect(parseKind('ing')).toBe('ingresses');
    expect(() => parseKind('pods')).toThrow(/unknown kind "pods": expected ingresses, routes or domainmappings/);
  });

  it('reads --timeout durations', () => {
    expect([parseDuration('--timeout', '30s'), parseDuration('--timeout', '500ms'), parseDuration('--timeout', '2m'), parseDuration('--timeout', '5')]).toEqual([30_000, 500, 120_000, 5_000]);
    expect(() => parseDuration('--timeout', 'soon')).toThrow(/--timeout soon: expected a duration/);
  });
});
