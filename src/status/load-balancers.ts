/** The gateway Services a KIngress's status names as its load balancers (net-kourier's kourier / kourier-internal). */
export interface LoadBalancerHosts {
  /** The external gateway Service: status.publicLoadBalancer. */
  public: string;
  /** The local gateway Service: status.privateLoadBalancer. */
  private: string;
}

export const DEFAULT_LOAD_BALANCER_HOSTS: LoadBalancerHosts = {
  public: 'ferry.ferry-system.svc.cluster.local',
  private: 'ferry-internal.ferry-system.svc.cluster.local',
};
