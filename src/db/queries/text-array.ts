/** A PostgreSQL text[] literal for one bound parameter (`${pgTextArray(ids)}::text[]`): any text, safely quoted. */
export const pgTextArray = (values: readonly string[]): string =>
  `{${values.map((v) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
