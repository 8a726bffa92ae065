/*
 * A sandbox system's state as a snapshot holds it: named parts, each either a list of records (orders, stock
 * records, postings, …) or one plain value (a sequence counter). Flattened, a list becomes snapshot records of a
 * few hundred elements each: no line of the DATA_DIR snapshot grows with the state (a line is read whole), and the
 * records stay few (each costs a parse and a dispatch at start).
 */

/** A system's state: each part a list of records or one value. */
export type SystemState = Record<string, unknown>;

/*
 * Symbol-keyed, not named methods: the sandbox's RPC endpoint (`POST /sandbox/rpc/<system>/<method>`) calls a system's
 * methods by name, and replacing a system's state from outside, unjournaled, must not be one of them.
 */
export const EXPORT_STATE = Symbol('exportState');
export const IMPORT_STATE = Symbol('importState');

/** Something whose state a snapshot can hold and give back (a system of record, a stock book). */
export interface StateHolder<S extends SystemState = SystemState> {
  /**
   * The state as it is now, in containers and records that will not change: the journal writes it after the snapshot
   * instant, while the system goes on (so records the system changes in place are copied; those it replaces are not).
   */
  [EXPORT_STATE](): S;
  /** Replace the state by `state` (as {@link EXPORT_STATE} gave it), rebuilding every index from it. */
  [IMPORT_STATE](state: S): void;
}

/** The most elements of a list part in one record: few records to read, and none of them a large line. */
const LIST_CHUNK = 500;

/**
 * One record of a system's state: `p` is the part; `l` a run of a list part's elements (in order; an empty list is
 * one record with none, so that "empty" is not read as "absent"), `v` the value of a plain part.
 */
export type StateRecord = { p: string; l: unknown[] } | { p: string; v: unknown };

/** The parts of `state` as records: lists in runs of at most {@link LIST_CHUNK} elements, in order. */
export function* flattenState(state: SystemState): Generator<StateRecord> {
  for (const [p, value] of Object.entries(state)) {
    if (!Array.isArray(value)) yield { p, v: value };
    else if (!value.length) yield { p, l: [] };
    else for (let at = 0; at < value.length; at += LIST_CHUNK) yield { p, l: value.slice(at, at + LIST_CHUNK) };
  }
}

/** Collects records (as {@link flattenState} gave them) back into a state. */
export class StateCollector {
  private readonly state: SystemState = {};

  add(record: StateRecord): void {
    if ('l' in record) {
      if (!Array.isArray(record.l)) throw new Error(`the sandbox snapshot's part "${record.p}" is not a list`);
      const list = this.state[record.p];
      if (Array.isArray(list)) for (const item of record.l) list.push(item);
      else this.state[record.p] = record.l;
    } else this.state[record.p] = record.v;
  }

  get(): SystemState {
    return this.state;
  }
}

/** A part of a restored state: a list, checked; missing or not a list is a corrupt snapshot. */
export function listPart<T>(state: SystemState, part: string, owner: string): T[] {
  const value = state[part];
  if (!Array.isArray(value)) throw new Error(`the sandbox snapshot has no list "${part}" for ${owner}`);
  return value as T[];
}

/** A part of a restored state: a whole number, checked. */
export function intPart(state: SystemState, part: string, owner: string): number {
  const value = state[part];
  if (!Number.isSafeInteger(value)) throw new Error(`the sandbox snapshot has no whole number "${part}" for ${owner}`);
  return value as number;
}
