import { BinaryWriter } from '@bufbuild/protobuf/wire';

/** BinaryWriter's own fields (private in its typings): the bytes written so far are buffer[0, pos). */
interface WriterState {
  buffer: Uint8Array;
  pos: number;
  stackPos: number[];
}

/** A buffer grown past this (a single route table) is let go after use rather than kept for the next message. */
const KEEP_AT_MOST = 1 << 20;

const usable = ((probe: WriterState) => probe.buffer instanceof Uint8Array && probe.pos === 0 && Array.isArray(probe.stackPos))(
  new BinaryWriter() as unknown as WriterState,
);
let shared: BinaryWriter | undefined;
let busy = false;

/**
 * Encodes with one BinaryWriter that every call reuses, and hands `use` a view of the bytes that is valid only during
 * the call (copy what you keep). A fresh BinaryWriter starts with a 128-byte buffer, doubles it as the message grows
 * and copies the result out in finish(): 4-6 ArrayBuffers per resource, for ~10^5 resources at 10k KIngresses (~15%
 * of the first pass's CPU went to allocating them and collecting them). A nested call, or a @bufbuild/protobuf whose
 * writer no longer has these fields, gets a fresh writer.
 */
export function withEncoded<R>(encode: (writer: BinaryWriter) => unknown, use: (bytes: Uint8Array) => R): R {
  if (busy || !usable) {
    const writer = new BinaryWriter();
    encode(writer);
    return use(writer.finish());
  }
  busy = true;
  const writer = (shared ??= new BinaryWriter());
  const state = writer as unknown as WriterState;
  try {
    encode(writer);
    return use(state.buffer.subarray(0, state.pos));
  } finally {
    state.pos = 0;
    state.stackPos = [];
    if (state.buffer.length > KEEP_AT_MOST) shared = undefined;
    busy = false;
  }
}
