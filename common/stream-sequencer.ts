import { GraphQLError } from 'graphql';
import { sequenceIn, sequenceSpan, type CanonicalEvent, type EventStream, type StreamHistory } from './events.js';
import type { Logger } from './logger.js';

/** The `extensions.code` of a resume whose missed events the backbone no longer retains. */
export const RESUME_TOO_OLD = 'RESUME_TOO_OLD';

/** The error of a resume (or a catch-up) that needs events the stream has let go of. */
export function resumeTooOld(stream: EventStream, after: number, oldest: number): GraphQLError {
  return new GraphQLError(
    `Cannot resume the ${stream.kind} stream ${stream.id} after sequence ${after}: the oldest sequence still retained is ${oldest}. ` +
      'Re-read the current state, then subscribe again without `after` (or with the sequence that state is at).',
    { extensions: { code: RESUME_TOO_OLD, stream: stream.kind, after, oldest } },
  );
}

export interface StreamSequencerOptions {
  stream: EventStream;
  /** The last sequence the subscriber saw (it gets every later one first), or null: from now on. */
  after: number | null;
  /** The backbone's `streamSince` (or its synchronous `streamSinceNow`, so that an in-process backbone delivers at once). */
  history: (stream: EventStream, after: number | null) => StreamHistory | Promise<StreamHistory>;
  /**
   * Each event of the stream, in sequence order, once, with the first sequence of its changes the subscriber still
   * needs: the event's first, unless it resumed inside the event's block (the lines of one hand-over), when the
   * changes before `from` were seen already. Must not throw (it may run from a history read's callback).
   */
  emit: (event: CanonicalEvent, from: number) => void;
  /** Ends the subscriber (RESUME_TOO_OLD, or a failed history read). */
  fail: (error: Error) => void;
  /** Whether the subscriber still listens; a sequencer whose subscriber left does nothing more. */
  isOpen: () => boolean;
  /** Where a sequence the stream never retained is reported before it is skipped. @default nowhere */
  logger?: Partial<Pick<Logger, 'warn'>> | undefined;
}

/**
 * One subscriber's view of one stream: every event after its starting point, in sequence order, exactly once,
 * with no gap. An event spans a block of sequences (one per change it delivers, see `changesIn`); a start inside a
 * block emits that event with the first sequence still owed (`emit`'s `from`). Live events are offered as the backbone delivers them (at least once, and, with several
 * publishers on Redis, not always in sequence order); the sequencer holds them back while it reads what comes
 * before them from the stream's history: at the start (a resume, or just where the stream stands), and whenever a
 * live event arrives with a sequence past the next one (a reordering, or a reconnected reader).
 *
 * Subscribe-then-read: the subscriber listens before the history is read, so nothing published in between falls
 * in the seam; what is in both is emitted once, by sequence.
 */
export class StreamSequencer {
  private readonly options: StreamSequencerOptions;
  /** The last sequence emitted (or skipped); null until the start is known. */
  private last: number | null = null;
  /**
   * Events waiting for the ones before them, by the first sequence still to deliver (`from`: the event's first, or
   * where a resume inside its block goes on), with the last of their block.
   */
  private readonly waiting = new Map<number, { event: CanonicalEvent; last: number }>();
  /** A history read is in flight: offers wait for it. */
  private reading = true;
  /** Unsequenced events offered before the start was known. */
  private unsequenced: CanonicalEvent[] = [];
  private settleStart!: (error?: Error) => void;
  /**
   * Settles once the start is known: rejects with what failed the subscriber there (RESUME_TOO_OLD, a failed
   * read), so that a `subscribe` resolver can refuse the subscription instead of starting a stream that fails.
   */
  readonly started: Promise<void>;

  constructor(options: StreamSequencerOptions) {
    this.options = options;
    this.started = new Promise<void>((resolve, reject) => {
      this.settleStart = (error) => (error ? reject(error) : resolve());
    });
    // Nobody needs to wait on it: the subscriber is failed as well.
    this.started.catch(() => undefined);
    this.read(options.after, (history) => this.start(history));
  }

  /** A live event of the stream. */
  offer(event: CanonicalEvent): void {
    if (sequenceIn(event, this.options.stream.kind) === 0) {
      // Not sequenced (history loaded without publishing): nothing to order it by.
      if (this.last === null) this.unsequenced.push(event);
      else this.options.emit(event, 0);
      return;
    }
    this.hold(event);
    if (!this.reading) this.drain();
  }

  /** Keep an event until the ones before it are out: keyed where its undelivered changes start. */
  private hold(event: CanonicalEvent): void {
    const span = sequenceSpan(event, this.options.stream.kind);
    if (!span) return;
    if (this.last !== null && span.last <= this.last) return;
    const from = this.last === null ? span.first : Math.max(span.first, this.last + 1);
    this.waiting.set(from, { event, last: span.last });
  }

  /** Read the history after `after`, then `then` it: synchronously when the backbone answers so. */
  private read(after: number | null, then: (history: StreamHistory) => void): void {
    const failed = (error: unknown) => this.failWith(error instanceof Error ? error : new Error(String(error)));
    try {
      const history = this.options.history(this.options.stream, after);
      if (history instanceof Promise) {
        history.then((answer) => {
          if (this.options.isOpen()) then(answer);
        }, failed);
      } else then(history);
    } catch (error) {
      failed(error);
    }
  }

  private start(history: StreamHistory): void {
    const { stream, after } = this.options;
    if (after === null) {
      // From now on: where the stream stood, or just before the first event that came live meanwhile (it was
      // published after the subscriber started listening).
      const first = this.waiting.size > 0 ? Math.min(...this.waiting.keys()) - 1 : history.latest;
      this.last = Math.min(history.latest, first);
    } else {
      if (after + 1 < history.oldest && after < history.latest) {
        this.failWith(resumeTooOld(stream, after, history.oldest));
        return;
      }
      // A sequence past the stream's end (a client that saw more than there is) is just "from now on".
      this.last = Math.min(after, history.latest);
      // Live ones held before the start was known: keyed again from it (one may straddle it).
      const held = [...this.waiting.values()];
      this.waiting.clear();
      for (const { event } of held) this.hold(event);
      for (const event of history.events) this.hold(event);
    }
    this.reading = false;
    this.settleStart();
    const early = this.unsequenced;
    this.unsequenced = [];
    for (const event of early) if (this.options.isOpen()) this.options.emit(event, 0);
    this.drain();
  }

  private failWith(error: Error): void {
    this.settleStart(error);
    if (this.options.isOpen()) this.options.fail(error);
  }

  private drain(): void {
    if (this.last === null) return;
    for (;;) {
      for (let next = this.waiting.get(this.last + 1); next !== undefined; next = this.waiting.get(this.last + 1)) {
        const from = this.last + 1;
        this.waiting.delete(from);
        this.last = next.last;
        this.options.emit(next.event, from);
        if (!this.options.isOpen()) return;
      }
      // Held ones now behind (a copy that came twice), or straddling where the stream now is: drop, or key again.
      let rekeyed = false;
      for (const [from, held] of [...this.waiting]) {
        if (from > this.last) continue;
        this.waiting.delete(from);
        if (held.last > this.last) {
          this.hold(held.event);
          rekeyed = true;
        }
      }
      if (!rekeyed) break;
    }
    if (this.waiting.size > 0) this.catchUp();
  }

  /** A live event came past the next sequence: read the ones between from the stream. */
  private catchUp(): void {
    const last = this.last ?? 0;
    this.reading = true;
    this.read(last, (history) => this.caughtUp(last, history));
  }

  private caughtUp(last: number, history: StreamHistory): void {
    if (last + 1 < history.oldest) {
      this.failWith(resumeTooOld(this.options.stream, last, history.oldest));
      return;
    }
    for (const event of history.events) this.hold(event);
    if (!this.waiting.has(last + 1) && this.waiting.size > 0) {
      // The stream has no such event (a backbone that lost it): waiting would stop the subscriber for good.
      const next = Math.min(...this.waiting.keys());
      this.options.logger?.warn?.({ stream: this.options.stream, from: last + 1, to: next - 1 }, 'stream sequences missing from the backbone; skipped');
      this.last = next - 1;
    }
    this.reading = false;
    this.drain();
  }
}
