// The few WASI preview1 calls this program needs, declared directly: AssemblyScript ships no
// WASI layer, and these signatures are all the runtime provides anyway.

@external("wasi_snapshot_preview1", "fd_read")
declare function fd_read(fd: i32, iovs: usize, iovsLength: i32, nread: usize): i32;

@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: i32, iovs: usize, iovsLength: i32, nwritten: usize): i32;

@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: i32): void;

const MAX_INPUT: i32 = 65536;
const iov = memory.data(8);
const count = memory.data(4);

/** All of stdin as UTF-8 text (the request input). */
export function readInput(): string {
  const buffer = new ArrayBuffer(MAX_INPUT);
  const base = changetype<usize>(buffer);
  let length: i32 = 0;
  while (length < MAX_INPUT) {
    store<u32>(iov, base + <usize>length);
    store<u32>(iov, <u32>(MAX_INPUT - length), 4);
    if (fd_read(0, iov, 1, count) != 0) fail("cannot read stdin");
    const read = load<u32>(count);
    if (read == 0) break;
    length += <i32>read;
  }
  return String.UTF8.decodeUnsafe(base, <usize>length);
}

function write(fd: i32, text: string): void {
  const bytes = String.UTF8.encode(text);
  let offset: i32 = 0;
  while (offset < bytes.byteLength) {
    store<u32>(iov, changetype<usize>(bytes) + <usize>offset);
    store<u32>(iov, <u32>(bytes.byteLength - offset), 4);
    if (fd_write(fd, iov, 1, count) != 0) return;
    offset += <i32>load<u32>(count);
  }
}

export function writeOutput(text: string): void {
  write(1, text);
}

/** Reports bad input on stderr and exits with code 2 (the `exit` outcome: nothing happens). */
export function fail(message: string): void {
  write(2, "token-mover: " + message + "\n");
  proc_exit(2);
}

/** Replaces AssemblyScript's default `env.abort` import (not available to programs). */
export function abort(message: string | null, file: string | null, line: u32, column: u32): void {
  write(2, "abort: " + (message ? message : "") + " at " + (file ? file : "") + ":" + line.toString() + ":" + column.toString() + "\n");
  proc_exit(134);
}
