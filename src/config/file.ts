import { readFileSync } from 'node:fs';
import { parseDocument, type YAMLError, YAMLParseError } from 'yaml';

/** A problem with the config file itself; its message never quotes the file's lines (they may hold secrets). */
export class ConfigFileError extends Error {}

/** Line and column (1-based) of a character offset. */
function lineColumn(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, col: lines.at(-1)!.length + 1 };
}

/** JSON.parse's reason without the quoted text V8 adds (`"…" is not valid JSON`, `Unexpected token 'x'`). */
function jsonReason(message: string): string {
  const reason = message
    .split(/ in JSON| at position|, "|\s*"/)[0]!
    .replace(/\s*'([^']*)'/g, (quoted, c: string) => (/^[[\]{}:,"]$/.test(c) ? quoted : ''))
    .trim();
  return reason || 'syntax error';
}

// A warning is an error too: a tag the parser does not know (`apiToken: !abc… xyz`) would
// otherwise turn the value into something else in silence. Named by code, line and column only:
// the parser's own message quotes the text (the tag of a secret, say).
const YAML_WORDS: Record<string, string> = {
  TAG_RESOLVE_FAILED: 'a YAML tag (!…) flarewatch does not know; quote a value that starts with !',
  BAD_ALIAS: 'a bad alias (*…)',
  DUPLICATE_KEY: 'a key given twice',
};

function yamlProblem(file: string, text: string, problem: YAMLError, what: string): ConfigFileError {
  const at = problem.linePos?.[0] ?? lineColumn(text, problem.pos[0]);
  const reason = YAML_WORDS[problem.code] ?? problem.code.toLowerCase().replace(/_/g, ' ');
  return new ConfigFileError(`${file} is not valid YAML: ${what === 'warning' ? 'warning: ' : ''}${reason} at line ${at.line}, column ${at.col}`);
}

function parseYamlStrict(file: string, text: string): unknown {
  let doc;
  try {
    doc = parseDocument(text, { prettyErrors: false, logLevel: 'silent', uniqueKeys: true });
  } catch (err) {
    if (!(err instanceof YAMLParseError)) throw new ConfigFileError(`${file} is not valid YAML`);
    throw yamlProblem(file, text, err, 'error');
  }
  if (doc.errors[0]) throw yamlProblem(file, text, doc.errors[0], 'error');
  if (doc.warnings[0]) throw yamlProblem(file, text, doc.warnings[0], 'warning');
  return doc.toJS({ maxAliasCount: 100 });
}

/** The config file as an object (JSON for *.json, YAML otherwise). Throws ConfigFileError naming line and column. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigFileError(`cannot read ${file}${code === 'ENOENT' ? ': no such file' : code === 'EACCES' ? ': permission denied' : `: ${code ?? (err as Error).message}`}`);
  }
  let parsed: unknown;
  if (/\.json$/i.test(file)) {
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      const position = /position (\d+)/.exec((err as Error).message)?.[1];
      const at = lineColumn(text, position === undefined ? text.length : Number(position));
      throw new ConfigFileError(`${file} is not valid JSON: ${jsonReason((err as Error).message)} at line ${at.line}, column ${at.col}`);
    }
  } else {
    parsed = parseYamlStrict(file, text);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigFileError(`${file} must hold a mapping of settings (key: value) at the top`);
  return parsed as Record<string, unknown>;
}
