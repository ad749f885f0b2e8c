import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from '../../src/envoy/bootstrap.js';
import { deleteNamespaceSync, ManagedProcess, run, sweepOrphans, trackNamespace } from '../kube/harness/netns.js';

/*
 * The network of the one-machine cluster. A "hub" network namespace holds a bridge (10.215.0.1/16); every pod, and
 * each gateway Envoy, gets a namespace of its own joined to that bridge by a veth pair, with one address of
 * 10.215.0.0/16 and no default route: they reach each other on one L2 segment and nothing else. The host's own
 * interfaces and routes are never touched: the bridge and the veths are created inside the namespaces.
 *
 * Service ClusterIPs (10.96.0.0/16) are routed to the hub, where the real kube-proxy (iptables mode, masquerading all
 * service traffic so that replies come back through the hub) translates them to endpoints, as on a node.
 *
 * The API server stays on the host's loopback. Pods reach it at 10.215.0.1:6443 through two relays (one in the hub
 * listening on that address, one on the host on a unix socket, since a path crosses namespaces); the API server
 * reaches pods (the Knative webhook) through its egress selector: an HTTP CONNECT proxy in the hub, on a unix socket.
 */

export const HUB_ADDRESS = '10.215.0.1';
/** kube-apiserver's --service-cluster-ip-range (test/kube/harness/cluster.ts): routed to the hub, where kube-proxy runs. */
export const SERVICE_CIDR = '10.96.0.0/16';
const PREFIX = 16;
const RELAY = join(repositoryRoot(), 'test', 'cluster', 'relay.mjs');

export interface ClusterNetwork {
  readonly hub: string;
  /** Creates a namespace joined to the hub with this address (10.215.x.y); returns its name. */
  attach(label: string, address: string): Promise<string>;
  /** Deletes a namespace made by attach (its processes are killed). */
  detach(namespace: string): void;
  /** Writes the namespace's /etc/hosts (`ip netns exec` mounts /etc/netns/<ns>/hosts there). */
  writeHosts(namespace: string, entries: ReadonlyMap<string, string>): void;
  /** A process on the host or in the hub that relays TCP or unix-socket connections. */
  relay(args: { in?: string; listen: string; connect?: string; httpConnect?: boolean; name: string }): Promise<ManagedProcess>;
  remove(): Promise<void>;
}

let counter = 0;

export async function createClusterNetwork(): Promise<ClusterNetwork> {
  sweepOrphans();
  const id = `${process.pid}-${++counter}`;
  const hub = `ferry-c-${id}-hub`;
  const namespaces = new Set<string>();
  const relays: ManagedProcess[] = [];
  let links = 0;

  const add = async (ns: string): Promise<void> => {
    deleteNamespaceSync(ns);
    try {
      await run('ip', ['netns', 'add', ns]);
    } catch (error) {
      throw new Error(`cluster network: cannot create network namespace ${ns} (${(error as Error).message.trim()}); `
        + 'the one-machine cluster needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2');
    }
    trackNamespace(ns);
    namespaces.add(ns);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  };

  await add(hub);
  await run('ip', ['-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
  await run('ip', ['-n', hub, 'addr', 'add', `${HUB_ADDRESS}/${PREFIX}`, 'dev', 'br0']);
  await run('ip', ['-n', hub, 'link', 'set', 'br0', 'up']);
  // Per namespace: this is the hub's forwarding only, never the host's.
  await run('ip', ['netns', 'exec', hub, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);

  const network: ClusterNetwork = {
    hub,
    attach: async (label, address) => {
      const ns = `ferry-c-${id}-${label}`.slice(0, 60);
      await add(ns);
      const hubSide = `c${++links}`;
      await run('ip', ['link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', hubSide, 'netns', hub]);
      await run('ip', ['-n', hub, 'link', 'set', hubSide, 'master', 'br0']);
      await run('ip', ['-n', hub, 'link', 'set', hubSide, 'up']);
      await run('ip', ['-n', ns, 'addr', 'add', `${address}/${PREFIX}`, 'dev', 'eth0']);
      await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      await run('ip', ['-n', ns, 'route', 'add', SERVICE_CIDR, 'via', HUB_ADDRESS]);
      network.writeHosts(ns, new Map());
      return ns;
    },
    detach: (ns) => {
      deleteNamespaceSync(ns);
      trackNamespace(ns, false);
      namespaces.delete(ns);
    },
    writeHosts: (ns, entries) => {
      mkdirSync(`/etc/netns/${ns}`, { recursive: true });
      const lines = ['127.0.0.1 localhost', '::1 localhost', ...[...entries].map(([name, address]) => `${address} ${name}`)];
      // In place (same inode): a running process's mount of the file sees the new content.
      writeFileSync(`/etc/netns/${ns}/hosts`, `${lines.join('\n')}\n`);
      // No DNS server: a name the hosts file lacks fails at once instead of trying the host's resolver.
      if (!existsSync(`/etc/netns/${ns}/resolv.conf`)) writeFileSync(`/etc/netns/${ns}/resolv.conf`, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
    },
    relay: async ({ in: inNamespace, listen, connect, httpConnect, name }) => {
      const args = [RELAY, '--listen', listen, ...(connect ? ['--connect', connect] : []), ...(httpConnect ? ['--http-connect'] : [])];
      const [command, argv] = inNamespace ? ['ip', ['netns', 'exec', inNamespace, process.execPath, ...args]] : [process.execPath, args];
      let ready: () => void = () => {};
      const listening = new Promise<void>((resolve) => (ready = resolve));
      const proc = new ManagedProcess(command, argv, { name, onLine: (line) => line.startsWith('relaying ') && ready() });
      relays.push(proc);
      await Promise.race([listening, proc.exited.then(() => {
        throw new Error(`cluster network: relay ${name} exited: ${proc.logTail(10)}`);
      })]);
      return proc;
    },
    remove: async () => {
      await Promise.all(relays.map((relay) => relay.stop(1_000)));
      for (const ns of [...namespaces].reverse()) network.detach(ns);
    },
  };
  return network;
}
