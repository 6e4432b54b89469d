// Small hooks shared by the pages: polling while mounted, and a re-render throttled to frames.

import { useEffect, useReducer, useRef } from 'preact/hooks';

/** Calls `fn` now and every `ms` while mounted; a slow call is never overlapped by the next. */
export function usePoll(fn: () => Promise<void>, ms: number, deps: unknown[] = []): void {
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        await latest.current();
      } finally {
        if (!stopped) timer = setTimeout(tick, ms);
      }
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [ms, ...deps]);
}

/** A function that re-renders the component at most once per animation frame. */
export function useFrameUpdate(): () => void {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const pending = useRef(false);
  return () => {
    if (pending.current) return;
    pending.current = true;
    requestAnimationFrame(() => {
      pending.current = false;
      bump(0);
    });
  };
}
