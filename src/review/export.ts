import type { Tx } from '../db/client.js';
import { decisionsOf, findingsOf, itemsOf, reviewById } from '../db/queries/reviews.js';
import { remediationOfReview } from '../remediation/evidence.js';
import { buildEvidence, type Evidence } from './evidence.js';
import { renderCsv } from './render-csv.js';
import { renderHtml } from './render-html.js';
import { renderMarkdown } from './render-md.js';

import type { ReviewExportFormat } from './formats.js';

export { EXPORT_FORMATS, type ReviewExportFormat } from './formats.js';

/** A review's evidence pack, from its frozen tables and its decisions only (never the live inventory). */
export async function loadEvidence(tx: Tx, reviewId: number): Promise<Evidence | undefined> {
  const review = await reviewById(tx, reviewId);
  if (!review) return undefined;
  const [items, findings, decisions] = await Promise.all([itemsOf(tx, reviewId), findingsOf(tx, reviewId), decisionsOf(tx, reviewId)]);
  return buildEvidence(review, items, findings, decisions, await remediationOfReview(tx, reviewId));
}

export function renderEvidence(e: Evidence, format: ReviewExportFormat): string {
  switch (format) {
    case 'csv': return renderCsv(e);
    case 'md': return renderMarkdown(e);
    case 'html': return renderHtml(e);
    case 'json': return `${JSON.stringify(e, null, 2)}\n`;
  }
}
