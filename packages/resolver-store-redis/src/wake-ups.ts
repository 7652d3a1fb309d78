/**
 * Wake-ups of waiting `coordinate` calls, by pub/sub channel: a message on the channel, a poll
 * timer, or the store going down or closing wakes them.
 */
export class WakeUps {
  readonly #byChannel = new Map<string, Set<() => void>>();

  /**
   * A wake-up on a message on `channel`, after `ms`, or on {@link wakeAll}. Armed before the lock
   * is tried, so that a release announced while the attempt is on its way is not missed (the
   * message and the attempt's reply come on two connections, in any order).
   */
  arm(channel: string, ms: number): { woken: Promise<void>; disarm(): void } {
    let set = this.#byChannel.get(channel);
    if (set === undefined) {
      set = new Set();
      this.#byChannel.set(channel, set);
    }
    const own = set;
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => {
      wake = () => {
        clearTimeout(timer);
        own.delete(wake);
        if (own.size === 0 && this.#byChannel.get(channel) === own) this.#byChannel.delete(channel);
        resolve();
      };
    });
    const timer = setTimeout(wake, ms);
    own.add(wake);
    return { woken, disarm: wake };
  }

  /** Wakes the waiters of one channel (a "done" message came). */
  wake(channel: string): void {
    const set = this.#byChannel.get(channel);
    if (set !== undefined) for (const wake of [...set]) wake();
  }

  /** Wakes every waiter: nobody can see the lock any more. */
  wakeAll(): void {
    for (const set of this.#byChannel.values()) for (const wake of [...set]) wake();
  }
}
