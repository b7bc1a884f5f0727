/**
 * The WASI preview1 ABI as the runtime sees it: every function a program may import (by name and
 * type, checked at load time so a wrong signature is refused instead of misread), and the error
 * numbers the host returns. Socket calls are absent on purpose: importing one refuses the module.
 */

/** Compact signatures: parameter letters, `>`, result letters (i = i32, I = i64). */
export const WASI_FUNCTIONS: Readonly<Record<string, string>> = {
  args_get: "ii>i",
  args_sizes_get: "ii>i",
  environ_get: "ii>i",
  environ_sizes_get: "ii>i",
  clock_res_get: "ii>i",
  clock_time_get: "iIi>i",
  fd_advise: "iIIi>i",
  fd_allocate: "iII>i",
  fd_close: "i>i",
  fd_datasync: "i>i",
  fd_fdstat_get: "ii>i",
  fd_fdstat_set_flags: "ii>i",
  fd_fdstat_set_rights: "iII>i",
  fd_filestat_get: "ii>i",
  fd_filestat_set_size: "iI>i",
  fd_filestat_set_times: "iIIi>i",
  fd_pread: "iiiIi>i",
  fd_prestat_get: "ii>i",
  fd_prestat_dir_name: "iii>i",
  fd_pwrite: "iiiIi>i",
  fd_read: "iiii>i",
  fd_readdir: "iiiIi>i",
  fd_renumber: "ii>i",
  fd_seek: "iIii>i",
  fd_sync: "i>i",
  fd_tell: "ii>i",
  fd_write: "iiii>i",
  path_create_directory: "iii>i",
  path_filestat_get: "iiiii>i",
  path_filestat_set_times: "iiiiIIi>i",
  path_link: "iiiiiii>i",
  path_open: "iiiiiIIii>i",
  path_readlink: "iiiiii>i",
  path_remove_directory: "iii>i",
  path_rename: "iiiiii>i",
  path_symlink: "iiiii>i",
  path_unlink_file: "iii>i",
  poll_oneoff: "iiii>i",
  proc_exit: "i>",
  proc_raise: "i>i",
  sched_yield: ">i",
  random_get: "ii>i",
};

export const WASI_MODULE = "wasi_snapshot_preview1";

/** Imports refused with a specific explanation rather than "not in the allowlist". */
export const REFUSED_WASI_FUNCTIONS: Readonly<Record<string, string>> = {
  sock_accept: "sockets are not available to programs",
  sock_recv: "sockets are not available to programs",
  sock_send: "sockets are not available to programs",
  sock_shutdown: "sockets are not available to programs",
  sock_open: "sockets are not available to programs",
  sock_connect: "sockets are not available to programs",
};

export function signatureText(signature: string): string {
  const [params = "", results = ""] = signature.split(">");
  const names = (letters: string) => [...letters].map((letter) => (letter === "I" ? "i64" : "i32")).join(", ");
  return `(${names(params)}) -> (${names(results)})`;
}

export const Errno = {
  SUCCESS: 0,
  BADF: 8,
  FAULT: 21,
  INVAL: 28,
  NOSYS: 52,
  SPIPE: 70,
  NOTCAPABLE: 76,
} as const;

export const ClockId = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME: 2, THREAD_CPUTIME: 3 } as const;

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;

export const RIGHT_FD_READ = 1n << 1n;
export const RIGHT_FD_WRITE = 1n << 6n;
