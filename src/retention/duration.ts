const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 } as const;
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** `3600` (seconds) or `1h`, `30m`, `1h30m`, `2d`, `45s` to milliseconds; null when it is neither or zero. */
export function parseDuration(text: string): number | null {
  const value = text.trim();
  if (/^\d+$/.test(value)) return Number(value) > 0 ? Number(value) * 1000 : null;
  const match = DURATION.exec(value);
  if (!match || value === '') return null;
  const [, d = '0', h = '0', m = '0', s = '0'] = match;
  const ms = Number(d) * UNIT_MS.d + Number(h) * UNIT_MS.h + Number(m) * UNIT_MS.m + Number(s) * UNIT_MS.s;
  return ms > 0 ? ms : null;
}
