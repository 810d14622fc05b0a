// Named apart from the renderers so the command line can offer the choices without loading them.
export const EXPORT_FORMATS = ['csv', 'md', 'html', 'json'] as const;
export type ReviewExportFormat = (typeof EXPORT_FORMATS)[number];
