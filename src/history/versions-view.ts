import { getTableColumns } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { VersionView } from './timeline.js';

/** A history row (drizzle's camelCase) as a VersionView: its fields by column name, as changed_fields names them. */
export function versionView(table: PgTable, row: Record<string, unknown>, objectId: string, accountId: string | null): VersionView {
  const fields: Record<string, unknown> = {};
  for (const [prop, col] of Object.entries(getTableColumns(table))) fields[col.name] = row[prop];
  return {
    versionId: row.versionId as number,
    objectId,
    accountId,
    validFrom: row.validFrom as Date,
    validTo: (row.validTo as Date | null) ?? null,
    change: row.change as VersionView['change'],
    changedFields: (row.changedFields as string[]) ?? [],
    endedBy: (row.endedBy as VersionView['endedBy']) ?? null,
    endReason: (row.endReason as string | null) ?? null,
    runId: (row.runId as number | null) ?? null,
    stream: (row.stream as string | null) ?? null,
    fields,
  };
}
