// node-cron's own validate() only says yes or no; a schedule that is wrong in one field should
// say which field and why ("minute field: 61 is out of range 0-59").
const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day-of-week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
] as const;

type Field = (typeof FIELDS)[number];

function valueProblem(token: string, field: Field): string | undefined {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    return n < field.min || n > field.max ? `${token} is out of range ${field.min}-${field.max}` : undefined;
  }
  const names: readonly string[] = 'names' in field ? field.names : [];
  if (names.includes(token.toLowerCase().slice(0, 3)) && token.length >= 3) return undefined;
  return `"${token}" is not a number${names.length ? ` or a name (${names[0]}…${names[names.length - 1]})` : ''}`;
}

function partProblem(part: string, field: Field): string | undefined {
  const [range, step, extra] = part.split('/');
  if (extra !== undefined || range === undefined || range === '') return `"${part}" is not a value, range or step`;
  if (step !== undefined && !(/^\d+$/.test(step) && Number(step) > 0)) return `step "/${step}" must be a whole number above 0`;
  if (range === '*') return undefined;
  const ends = range.split('-');
  if (ends.length > 2 || ends.some((e) => e === '')) return `"${range}" is not a value or a range (a-b)`;
  for (const end of ends) {
    const problem = valueProblem(end, field);
    if (problem) return problem;
  }
  return undefined;
}

/** What is wrong with a five-field cron expression, naming the field; undefined when every field reads. */
export function cronFieldProblem(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) return `${fields.length} field(s), expected five (minute hour day-of-month month day-of-week), e.g. */5 * * * *`;
  for (const [i, text] of fields.entries()) {
    const field = FIELDS[i]!;
    for (const part of text.split(',')) {
      const problem = partProblem(part, field);
      if (problem) return `${field.name} field: ${problem}`;
    }
  }
  return undefined;
}
