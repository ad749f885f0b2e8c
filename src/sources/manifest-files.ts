import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Preparsed } from './parse-manifests.js';
import { MANIFEST_LIMITS, formatMiB } from './parse-limits.js';

/** Finding and reading manifest files, as `ferry serve` (files mode) and `ferry validate` both do. */

export const MANIFEST_FILE = /\.ya?ml$/i;

export interface FileInfo {
  mtimeMs: number;
  size: number;
  ino: number;
}

export interface ReadFile {
  info: FileInfo;
  text: string;
  preparsed?: Preparsed[];
}

/** A manifest file that is there but cannot be read: why, in a few words. */
export interface UnreadableFile {
  unreadable: string;
}

/**
 * Opened without blocking (a FIFO named like a manifest would otherwise hold the read forever), then checked on the
 * open file itself: a regular file, within the size limit.
 */
export async function readManifestFile(path: string): Promise<ReadFile | UnreadableFile> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    const unreadable = unreadableFile(info);
    return unreadable ?? { info, text: await handle.readFile('utf8') };
  } finally {
    await handle.close();
  }
}

export function readManifestFileSync(path: string): ReadFile | UnreadableFile {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = fstatSync(fd);
    return unreadableFile(info) ?? { info, text: readFileSync(fd, 'utf8') };
  } finally {
    closeSync(fd);
  }
}

function unreadableFile(info: Stats): UnreadableFile | undefined {
  if (!info.isFile()) return { unreadable: `not a regular file (${info.isDirectory() ? 'a directory' : 'a device, FIFO or socket'})` };
  if (info.size > MANIFEST_LIMITS.fileBytes) return { unreadable: `${formatMiB(info.size)} is larger than the ${formatMiB(MANIFEST_LIMITS.fileBytes)} Ferry reads in one manifest file` };
  return undefined;
}

const READ_ERRORS: Record<string, string> = {
  ELOOP: 'a loop of symbolic links',
  ENOENT: 'nothing there',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'a directory',
  EIO: 'an I/O error',
};

export function readErrorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code === undefined ? String(error) : `${READ_ERRORS[code] ?? 'failed'} (${code})`;
}

/** What is under a manifest directory: the manifest files, the folders, and the folders that could not be listed. */
export interface ManifestListing {
  paths: string[];
  directories: string[];
  unreadable: Array<{ path: string; reason: string }>;
}

/**
 * The manifest files under a directory (symlinks to files count, as in a mounted ConfigMap; symlinks to folders are
 * not followed, so a loop of them ends nowhere), and its folders. Anything named like a manifest that is not a folder
 * is listed, so that a FIFO or a socket is reported rather than silently skipped. A folder that cannot be listed
 * is reported and the rest is still read.
 */
export async function listManifestFiles(directory: string): Promise<ManifestListing> {
  const listing: ManifestListing = { paths: [], directories: [], unreadable: [] };
  const walk = async (folder: string): Promise<void> => {
    listing.directories.push(folder);
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (folder === directory) throw error;
      listing.unreadable.push({ path: folder, reason: readErrorText(error) });
      return;
    }
    // Hidden entries are skipped: a mounted ConfigMap keeps its files in `..<timestamp>/`, reached through symlinks.
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (MANIFEST_FILE.test(entry.name)) listing.paths.push(path);
    }
  };
  await walk(directory);
  listing.paths.sort();
  return listing;
}
