import { describe, expect, it } from 'vitest';
import { ApiException } from '@kubernetes/client-node';
import { renderObjects } from '../../src/cli/get.js';
import { apiErrorMessage, ingressRowFromObject, knativeRowFromObject, rowsFromObjects } from '../../src/cli/kube-get.js';
import type { KIngress } from '../../src/model/ingress.js';
import type { DomainMapping, Route } from '../../src/model/serving.js';

const ready = { type: 'Ready', status: 'True' as const, lastTransitionTime: '2026-01-01T00:00:00Z' };

/** A KIngress as Knative Serving writes it for a Route, with the status a Ferry replica wrote. */
function kingress(name: string, overrides: { annotations?: Record<string, string>; rules?: KIngress['spec']['rules']; tls?: KIngress['spec']['tls']; status?: KIngress['status'] } = {}): KIngress {
  return {
    apiVersion: 'networking.internal.knative.dev/v1alpha1', kind: 'Ingress',
    metadata: { name, namespace: 'default', generation: 2, annotations: overrides.annotations ?? { 'networking.knative.dev/ingress.class': 'ferry.ingress.networking.knative.dev' } },
    spec: {
      rules: overrides.rules ?? [
        { hosts: [`${name}.default`, `${name}.default.svc`, `${name}.default.svc.cluster.local`], visibility: 'ClusterLocal', http: { paths: [] } },
        { hosts: [`${name}.default.example.com`], visibility: 'ExternalIP', http: { paths: [] } },
      ],
      ...(overrides.tls ? { tls: overrides.tls } : {}),
    },
    ...(overrides.status ? { status: overrides.status } : {}),
  };
}

describe('ferry get --kubeconfig: rows from the objects the API server returns', () => {
  it('builds a KIngress row like the admin endpoint: the external host as URL, READY and REASON from the Ready condition', () => {
    const status: KIngress['status'] = {
      observedGeneration: 2,
      conditions: [
        { type: 'LoadBalancerReady', status: 'True' }, { type: 'NetworkConfigured', status: 'True' }, ready,
      ],
      privateLoadBalancer: { ingress: [{ domainInternal: 'ferry-internal.ferry-system.svc.cluster.local' }] },
      publicLoadBalancer: { ingress: [{ domainInternal: 'ferry.ferry-system.svc.cluster.local' }] },
    };
    const row = ingressRowFromObject(kingress('hello', { status }));
    expect(row).toEqual({
      kind: 'Ingress', namespace: 'default', name: 'hello', url: 'http://hello.default.example.com',
      ready: 'True', reason: '', message: '', conditions: status.conditions,
      origin: { kind: 'Ingress', namespace: 'default', name: 'hello' },
      hosts: ['hello.default', 'hello.default.svc', 'hello.default.svc.cluster.local', 'hello.default.example.com'],
      status,
    });
  });

  it('shows https when the URL host has a TLS secret, the cluster-local FQDN when no rule is external, Unknown without status', () => {
    const tls = kingress('secure', { tls: [{ hosts: ['secure.default.example.com'], secretName: 's', secretNamespace: 'default' }] });
    expect(ingressRowFromObject(tls).url).toBe('https://secure.default.example.com');
    const local = kingress('shop', { rules: [{ hosts: ['shop.default', 'shop.default.svc.cluster.local'], visibility: 'ClusterLocal', http: { paths: [] } }] });
    expect(ingressRowFromObject(local)).toMatchObject({ url: 'http://shop.default.svc.cluster.local', ready: 'Unknown', reason: '', conditions: [], status: {} });
  });

  it('takes READY, REASON and the message from a failed Ready condition', () => {
    const conflict = { type: 'Ready', status: 'False' as const, reason: 'DomainConflict', message: 'host hello.default.example.com is already served by the older KIngress default/hello' };
    const row = ingressRowFromObject(kingress('hello-copy', { status: { observedGeneration: 1, conditions: [conflict] } }));
    expect(row).toMatchObject({ ready: 'False', reason: 'DomainConflict', message: conflict.message });
  });

  it('lists only KIngresses of Ferry\'s class (an unannotated one is not Ferry\'s in a cluster, as `ferry serve --source kube` reads it)', () => {
    const rows = rowsFromObjects('ingresses', [
      kingress('ours'),
      kingress('kourier', { annotations: { 'networking.knative.dev/ingress.class': 'kourier.ingress.networking.knative.dev' } }),
      kingress('bare', { annotations: {} }),
    ]);
    expect(rows.map((row) => row.name)).toEqual(['ours']);
  });

  it('builds Route and DomainMapping rows from status.url and status.conditions', () => {
    const route: Route = {
      apiVersion: 'serving.knative.dev/v1', kind: 'Route', metadata: { name: 'hello', namespace: 'default' }, spec: {},
      status: {
        url: 'http://hello.default.example.com', address: { url: 'http://hello.default.svc.cluster.local' },
        traffic: [{ revisionName: 'hello-00001', percent: 100, latestRevision: true }],
        conditions: [{ type: 'AllTrafficAssigned', status: 'True' }, { type: 'IngressReady', status: 'True' }, ready],
      },
    };
    expect(knativeRowFromObject(route)).toEqual({
      kind: 'Route', namespace: 'default', name: 'hello', url: 'http://hello.default.example.com',
      ready: 'True', reason: '', message: '', conditions: route.status!.conditions,
      address: { url: 'http://hello.default.svc.cluster.local' }, traffic: route.status!.traffic,
    });
    const pending = { type: 'Ready', status: 'Unknown' as const, reason: 'IngressNotConfigured', message: 'Ingress has not yet been reconciled.' };
    const mapping = { apiVersion: 'serving.knative.dev/v1beta1', metadata: { name: 'shop.example.org', namespace: 'default' }, spec: { ref: { kind: 'Service', name: 'shop' } }, status: { conditions: [pending] } };
    const [row] = rowsFromObjects('domainmappings', [mapping]);
    expect(row).toEqual({ kind: 'DomainMapping', namespace: 'default', name: 'shop.example.org', url: '', ready: 'Unknown', reason: 'IngressNotConfigured', message: pending.message, conditions: [pending] });
    expect(renderObjects([row!], false)).toBe('NAME               URL   READY     REASON\nshop.example.org         Unknown   IngressNotConfigured\n');
    const bare: DomainMapping = { apiVersion: 'serving.knative.dev/v1beta1', kind: 'DomainMapping', metadata: { name: 'x.example.org' }, spec: { ref: {} } };
    expect(knativeRowFromObject(bare)).toMatchObject({ namespace: '', url: '', ready: 'Unknown', conditions: [] });
  });

  it('says what to do when the API server cannot be reached or refuses the request', () => {
    const options = { kubeconfig: '/home/me/.kube/config', kind: 'ingresses' as const, namespace: undefined };
    expect(apiErrorMessage(new Error('request to https://10.0.0.1:6443/apis failed, reason: connect ECONNREFUSED'), 'https://10.0.0.1:6443', options))
      .toBe('cannot reach the API server at https://10.0.0.1:6443: request to https://10.0.0.1:6443/apis failed, reason: connect ECONNREFUSED; check --kubeconfig /home/me/.kube/config');
    const forbidden = JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: 'ingresses.networking.internal.knative.dev is forbidden: User "me" cannot list resource "ingresses" at the cluster scope' });
    expect(apiErrorMessage(new ApiException(403, 'Unknown API Status Code!', forbidden, {}), 'https://10.0.0.1:6443', options))
      .toBe('not allowed to list ingresses.networking.internal.knative.dev/v1alpha1 in all namespaces: ingresses.networking.internal.knative.dev is forbidden: User "me" cannot list resource "ingresses" at the cluster scope; ask for list permission or pass -n NAMESPACE');
    expect(apiErrorMessage(new ApiException(404, 'Unknown API Status Code!', '404 page not found', {}), 'https://10.0.0.1:6443', { ...options, kind: 'domainmappings' }))
      .toBe('the API server at https://10.0.0.1:6443 does not serve domainmappings.serving.knative.dev/v1beta1 (404); is Knative Serving installed?');
  });
});
