/**
 * Wall-clock milliseconds with sub-millisecond resolution. The emitter, the subscribers and the
 * NOTIFY baseline run in different processes on one machine; they compare these stamps, which share
 * the system clock (Date.now() alone would round every latency to whole milliseconds).
 */
export const wallClockMs = () => performance.timeOrigin + performance.now();
