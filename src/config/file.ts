import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';

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
    try {
      parsed = parseYaml(text, { prettyErrors: false });
    } catch (err) {
      if (!(err instanceof YAMLParseError)) throw new ConfigFileError(`${file} is not valid YAML`);
      const at = err.linePos?.[0] ?? lineColumn(text, err.pos[0]);
      // The first line of the parser's message is its reason; the code frame after it quotes the file.
      const reason = err.message.split('\n')[0]!.replace(/\s+at line \d+, column \d+:?\s*$/, '');
      throw new ConfigFileError(`${file} is not valid YAML: ${reason} at line ${at.line}, column ${at.col}`);
    }
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigFileError(`${file} must hold a mapping of settings (key: value) at the top`);
  return parsed as Record<string, unknown>;
}
