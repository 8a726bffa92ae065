import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { ProbeRequest, ProbeSample } from './memory-probe.js';

/** Ask the stack's preloaded probe (bench/memory-probe.ts) for a sample over the IPC channel. */
export function createProbeClient(child: ChildProcess): (timeoutMs?: number) => Promise<ProbeSample> {
  let next = 0;
  const waiting = new Map<number, (sample: ProbeSample) => void>();
  child.on('message', (message: unknown) => {
    const sample = message as Partial<ProbeSample>;
    if (sample.type !== 'soak:sample' || typeof sample.id !== 'number') return;
    waiting.get(sample.id)?.(sample as ProbeSample);
    waiting.delete(sample.id);
  });
  return (timeoutMs = 10_000) =>
    new Promise<ProbeSample>((resolve, reject) => {
      const id = ++next;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`the stack's memory probe did not answer within ${timeoutMs} ms (is it preloaded?)`));
      }, timeoutMs);
      waiting.set(id, (sample) => {
        clearTimeout(timer);
        resolve(sample);
      });
      child.send({ type: 'soak:sample', id } satisfies ProbeRequest);
    });
}

/** A process's open file descriptors, by kind, and its TCP sockets by state (Linux `/proc`). */
export interface Handles {
  fds: number;
  sockets: number;
  tcpListen: number;
  tcpEstablished: number;
  /** Of those, connections whose other end is a socket of `peerPid` (the soak's own clients). */
  tcpToPeer: number;
  /** TCP sockets neither listening nor established (CLOSE_WAIT, FIN_WAIT, ...): a peer closed, we did not. */
  tcpOther: number;
  /** Unix-domain sockets (the IPC channel to the soak is one). */
  unix: number;
  /** Everything else: files, pipes, epoll, eventfd. */
  other: number;
}

const TCP_STATE: Record<string, 'established' | 'listen'> = { '01': 'established', '0A': 'listen' };

interface TcpSocket {
  local: string;
  remote: string;
  state: string;
}

/** inode → TCP socket (addresses, state "01", "0A", ...) of every TCP socket in the process's network namespace. */
function tcpSockets(pid: number): Map<string, TcpSocket> {
  const sockets = new Map<string, TcpSocket>();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      const [local, remote, state, inode] = [columns[1], columns[2], columns[3], columns[9]];
      if (local && remote && state && inode) sockets.set(inode, { local, remote, state });
    }
  }
  return sockets;
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // Closed between the listing and the read.
    }
  }
  return inodes;
}

function unixInodes(pid: number): Set<string> {
  try {
    return new Set(
      readFileSync(`/proc/${pid}/net/unix`, 'utf8')
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(/\s+/)[6])
        .filter((inode): inode is string => Boolean(inode)),
    );
  } catch {
    return new Set();
  }
}

/** `pid`'s descriptors; with `peerPid`, which of its established connections lead to that process. */
export function handlesOf(pid: number, peerPid?: number): Handles {
  const handles: Handles = { fds: 0, sockets: 0, tcpListen: 0, tcpEstablished: 0, tcpToPeer: 0, tcpOther: 0, unix: 0, other: 0 };
  const tcp = tcpSockets(pid);
  const unix = unixInodes(pid);
  const peerInodes = peerPid === undefined ? new Set<string>() : socketInodes(peerPid);
  const peerLocals = new Set([...peerInodes].map((inode) => tcp.get(inode)?.local).filter((local): local is string => Boolean(local)));
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      // Closed between the listing and the read.
      continue;
    }
    handles.fds++;
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (!inode) {
      handles.other++;
      continue;
    }
    handles.sockets++;
    const socket = tcp.get(inode);
    if (socket === undefined) {
      if (unix.has(inode)) handles.unix++;
      else handles.other++;
    } else if (TCP_STATE[socket.state] === 'listen') handles.tcpListen++;
    else if (TCP_STATE[socket.state] === 'established') {
      handles.tcpEstablished++;
      if (peerLocals.has(socket.remote)) handles.tcpToPeer++;
    } else handles.tcpOther++;
  }
  return handles;
}

/** Least-squares slope of y over x (0 with fewer than two points). */
export function slope(points: readonly { x: number; y: number }[]): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  return sxx === 0 ? 0 : sxy / sxx;
}
