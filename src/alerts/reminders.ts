// Reminders for findings still open `reminderInterval` after their last opened/reminder
// alert: one set-based statement, under a lock, so each interval reminds once.
import type { Context } from '../context.js';
import { insertDueReminders, lockReminders } from '../db/queries/alerts.js';

export async function queueReminders(ctx: Pick<Context, 'db' | 'config' | 'now'>): Promise<number> {
  const interval = ctx.config.alerts.reminderInterval;
  if (!interval) return 0;
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    await lockReminders(tx);
    return insertDueReminders(tx, now, new Date(now.getTime() - interval));
  });
}
