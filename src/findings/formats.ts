// Named apart from the exporters so the command line can offer the choices without loading them.
export const FINDINGS_FORMATS = ['table', 'json', 'csv', 'ocsf', 'junit'] as const;
export type ExportFormat = (typeof FINDINGS_FORMATS)[number];
