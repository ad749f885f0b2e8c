import { beforeEach } from 'vitest';
import { envoyLogTails } from './envoy.js';

/** Prints the log tail of every running Envoy when a test of this file fails. Call once at the top of a describe. */
export function printEnvoyLogsOnFailure(lines = 80): void {
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      console.error(envoyLogTails(lines));
    });
  });
}
