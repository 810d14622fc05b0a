import { describe, expect, it } from 'vitest';
import { cronIntervalMs } from '../../src/sync/budget-round.js';

describe('a schedule\'s period (how stale a stream walked every round may be)', () => {
  it('is the time between runs, whatever minute it is asked at', () => {
    // Two minutes before the hour an hourly schedule's period is still an hour (status read it as two minutes).
    expect(cronIntervalMs('0 * * * *', new Date('2026-12-07T14:58:30Z'))).toBe(3_600_000);
    expect(cronIntervalMs('0 * * * *', new Date('2026-12-07T15:00:00Z'))).toBe(3_600_000);
    expect(cronIntervalMs('*/5 * * * *', new Date('2026-12-07T14:58:30Z'))).toBe(300_000);
    expect(cronIntervalMs('0 3 * * *', new Date('2026-12-07T02:59:00Z'))).toBe(86_400_000);
  });
});
