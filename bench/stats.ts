/** Percentile by nearest rank; undefined for no samples. */
export function percentile(samples: readonly number[], p: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export interface Distribution {
  count: number;
  p50: number | undefined;
  p90: number | undefined;
  p99: number | undefined;
  max: number | undefined;
  mean: number | undefined;
}

export function distribution(samples: readonly number[]): Distribution {
  const mean = samples.length === 0 ? undefined : samples.reduce((a, b) => a + b, 0) / samples.length;
  return {
    count: samples.length,
    p50: percentile(samples, 50),
    p90: percentile(samples, 90),
    p99: percentile(samples, 99),
    max: samples.length === 0 ? undefined : Math.max(...samples),
    mean,
  };
}

/** Values by label value of one label, e.g. pushed bytes by type. */
export function promByLabel(text: string, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const value = new RegExp(`${label}="([^"]*)"`).exec(match[2]!)?.[1];
    if (value !== undefined) out[value] = (out[value] ?? 0) + Number(match[3]);
  }
  return out;
}
