/**
 * What reading one manifest may cost. YAML aliases are the trap: js-yaml shares an aliased node instead of copying
 * it, so a 1 KB file of nested aliases (the "billion laughs" shape) parses at once, and only walking or copying the
 * value expands it (before these bounds: 44 s and 1.8 GB for one `ferry validate`). Every parsed document is
 * measured, with a walk that stops at the bound, before anything copies, stores or validates it.
 */
export const MANIFEST_LIMITS = {
  /** A manifest file larger than this is not read (its last good objects keep serving). */
  fileBytes: 16 * 1024 * 1024,
  /** The API server's limit on one request body: no Kubernetes object is larger. */
  documentChars: 3 * 1024 * 1024,
  /** A document's value, aliases expanded, counted in characters of its JSON (twice documentChars: JSON of YAML is at most that). */
  expandedChars: 6 * 1024 * 1024,
  /** Levels of nesting (js-yaml's own bound on the text; an alias that contains itself would be infinite). */
  depth: 100,
};

export type ManifestLimits = typeof MANIFEST_LIMITS;

/** What measuring a document found: whether JSON carries its value exactly, or which bound it broke and where. */
export interface ValueMeasure {
  jsonSafe: boolean;
  exceeded?: 'expandedChars' | 'depth';
  /** The path of the value at which the walk stopped: field names and list indices. */
  path?: Array<string | number>;
}

/**
 * Walks a parsed document's value as JSON.stringify would, counting the characters it would write, and stops as soon
 * as a bound is broken: an expanded billion laughs costs at most `expandedChars` steps. Also tells whether JSON can
 * carry the value exactly (no infinities, NaN or -0). Self-contained (no imports, no outer names): the parse worker
 * runs its source text.
 */
export function measureValue(value: unknown, limits: { expandedChars: number; depth: number }): ValueMeasure {
  let size = 0;
  let jsonSafe = true;
  let exceeded: 'expandedChars' | 'depth' | undefined;
  // Returns the path to where a bound broke (built only then, on the way back up), else undefined.
  const walk = (item: unknown, depth: number): Array<string | number> | undefined => {
    if (typeof item === 'string') size += item.length + 2;
    else if (typeof item === 'number') {
      size += 8;
      if (!Number.isFinite(item) || Object.is(item, -0)) jsonSafe = false;
    } else if (item !== null && typeof item === 'object') {
      if (depth >= limits.depth) {
        exceeded = 'depth';
        return [];
      }
      size += 2;
      if (Array.isArray(item)) {
        for (let i = 0; i < item.length; i++) {
          const broken = walk(item[i], depth + 1);
          if (broken) return [i, ...broken];
        }
      } else {
        for (const key of Object.keys(item)) {
          size += key.length + 4;
          const broken = walk((item as Record<string, unknown>)[key], depth + 1);
          if (broken) return [key, ...broken];
        }
      }
    } else size += 5;
    if (size > limits.expandedChars) {
      exceeded = 'expandedChars';
      return [];
    }
    return undefined;
  };
  const path = walk(value, 0);
  return path ? { jsonSafe, exceeded, path } : { jsonSafe };
}

/** `spec.rules[0].http`: a path as the validation messages write fields, cut to its first levels. */
export function fieldPath(path: ReadonlyArray<string | number>, levels = 6): string {
  return path.slice(0, levels).map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

export function formatMiB(chars: number): string {
  return `${Math.round((chars / (1024 * 1024)) * 10) / 10} MiB`;
}
