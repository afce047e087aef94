import type { AuditReport } from './result.js';

/** Identifies the JSON shape for whoever parses it (bump on a breaking change). */
export const JSON_REPORT_FORMAT = 'crosstalk-audit-report/v1';

/** The report model as is: the same content as the text and Markdown reports, for machines. */
export function renderJsonReport(report: AuditReport): string {
  return `${JSON.stringify({ format: JSON_REPORT_FORMAT, ...report }, null, 2)}\n`;
}
