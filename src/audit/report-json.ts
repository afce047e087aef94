import type { AuditReport } from './result.js';

/**
 * Identifies the JSON shape for whoever parses it (bump on a breaking change). v2: outcomes warning and
 * unverified, check statuses warning and not_applicable (skipped now means could not run), findings by severity.
 */
export const JSON_REPORT_FORMAT = 'crosstalk-audit-report/v2';

/** The report model as is: the same content as the text and Markdown reports, for machines. */
export function renderJsonReport(report: AuditReport): string {
  return `${JSON.stringify({ format: JSON_REPORT_FORMAT, ...report }, null, 2)}\n`;
}
