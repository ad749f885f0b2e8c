import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { statFieldsAfterName } from '../src/serve/thread-priority.js';

const CLOCK_TICKS_PER_SECOND = 100;

/** A process's user+system CPU seconds so far, from /proc/<pid>/stat (10 ms resolution). */
export function processCpuSeconds(pid: number): number {
  const fields = statFieldsAfterName(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Resident memory now and at its peak, in MB, from /proc/<pid>/status. */
export function processMemoryMb(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: round(kb('VmRSS') / 1024), peakRssMb: round(kb('VmHWM') / 1024) };
}

/** Child process ids of a process (the managed Envoy is Ferry's child). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function machineInfo(): { cpus: number; cpuModel: string; memoryGb: number; node: string; platform: string } {
  const list = cpus();
  return { cpus: list.length, cpuModel: list[0]?.model ?? 'unknown', memoryGb: round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}` };
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
