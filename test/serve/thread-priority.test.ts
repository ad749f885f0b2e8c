import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { lowerHelperThreadPriority, threadNiceness, HELPER_THREADS_NICENESS } from '../../src/serve/thread-priority.js';

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill();
  child = undefined;
});

describe('lowerHelperThreadPriority', () => {
  it('lowers every thread of a node process but its main thread (on Linux; elsewhere none)', async () => {
    // A node process with its V8 and libuv threads started (an fs call starts the pool).
    child = spawn(process.execPath, ['-e', 'require("fs").readFile(__filename, () => console.log("up")); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(child.stdout!, 'data');
    const pid = child.pid!;
    if (process.platform !== 'linux') {
      expect(lowerHelperThreadPriority(pid)).toEqual([]);
      return;
    }
    const before = new Map(readdirSync(`/proc/${pid}/task`).map((tid) => [Number(tid), threadNiceness(pid, Number(tid))!]));
    expect(before.size).toBeGreaterThan(4);

    const lowered = lowerHelperThreadPriority(pid);

    expect(new Set(lowered)).toEqual(new Set([...before.keys()].filter((tid) => tid !== pid)));
    expect(threadNiceness(pid, pid)).toBe(before.get(pid));
    for (const tid of lowered) expect(threadNiceness(pid, tid)).toBe(Math.min(19, before.get(tid)! + HELPER_THREADS_NICENESS));
  });

  it('changes nothing for a process that does not exist', () => {
    expect(lowerHelperThreadPriority(2 ** 30)).toEqual([]);
  });
});
