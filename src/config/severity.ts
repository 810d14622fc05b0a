// Severities, lowest first. Here (not in rules/) because the alert routing settings
// (minSeverity) name them and config is the layer everything else imports.
export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const severityRank = (s: Severity) => SEVERITIES.indexOf(s);
