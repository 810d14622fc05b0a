// Reminders for findings still open a while after their episode's last alert: one set-based
// statement per finding kind, under a lock, so each interval reminds once. Detections are
// alerted once: their interval is off unless alerts.detectionReminderInterval sets one.
import type { Context } from '../context.js';
import { insertDueReminders, lockReminders } from '../db/queries/alerts.js';

export async function queueReminders(ctx: Pick<Context, 'db' | 'config' | 'now'>): Promise<number> {
  const { reminderInterval, detectionReminderInterval } = ctx.config.alerts;
  if (!reminderInterval && !detectionReminderInterval) return 0;
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    await lockReminders(tx);
    const state = reminderInterval ? await insertDueReminders(tx, 'state', now, new Date(now.getTime() - reminderInterval)) : 0;
    const detections = detectionReminderInterval ? await insertDueReminders(tx, 'detection', now, new Date(now.getTime() - detectionReminderInterval)) : 0;
    return state + detections;
  });
}
