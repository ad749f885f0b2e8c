import type { ManifestProblem } from './parse-manifests.js';

/** A problem a source found in its input: an error (the object's last good version keeps serving) or a warning. */
export type SourceProblem = ManifestProblem;

/**
 * Where desired state comes from. A source fills the Store it was given, emits 'synced' once the initial state is
 * in, and 'problem' for every input it rejects or ignores.
 */
export interface Source {
  start(): Promise<void>;
  stop(): Promise<void>;
  on(event: 'synced', listener: () => void): this;
  on(event: 'problem', listener: (problem: SourceProblem) => void): this;
}
