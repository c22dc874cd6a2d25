/**
 * A strict RFC 4180 reader that remembers the line each record starts on. Records end at LF,
 * CRLF or CR; fields may be quoted ("" is a quote inside a quoted field) and quoted fields may
 * span lines. Lines that are completely empty are skipped. A leading byte-order mark is ignored.
 *
 * Written here rather than taken from csv-parse because error messages must name the exact line,
 * and csv-parse counts a CRLF inside a quoted field as two lines.
 */

export interface CsvRecord {
  /** 1-based line on which the record starts. */
  line: number;
  fields: string[];
}

export type CsvRead =
  | { ok: true; records: CsvRecord[] }
  | { ok: false; line: number; fieldIndex: number; message: string };

export function readCsv(input: string): CsvRead {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const records: CsvRecord[] = [];
  let line = 1;
  let position = 0;
  const length = text.length;

  while (position < length) {
    const recordLine = line;
    const fields: string[] = [];
    // Completely empty line: skip it.
    const first = text[position];
    if (first === '\n' || first === '\r') {
      position += first === '\r' && text[position + 1] === '\n' ? 2 : 1;
      line += 1;
      continue;
    }
    for (;;) {
      let field = '';
      if (text[position] === '"') {
        const quoteLine = line;
        position += 1;
        for (;;) {
          if (position >= length) {
            return { ok: false, line: quoteLine, fieldIndex: fields.length, message: 'quoted field is not closed' };
          }
          const char = text[position] as string;
          if (char === '"') {
            if (text[position + 1] === '"') {
              field += '"';
              position += 2;
              continue;
            }
            position += 1;
            break;
          }
          if (char === '\n' || (char === '\r' && text[position + 1] !== '\n')) line += 1;
          field += char;
          position += 1;
        }
        const after = text[position];
        if (after !== undefined && after !== ',' && after !== '\n' && after !== '\r') {
          return { ok: false, line, fieldIndex: fields.length, message: `unexpected character '${after}' after a closing quote` };
        }
      } else {
        const start = position;
        while (position < length) {
          const char = text[position];
          if (char === ',' || char === '\n' || char === '\r') break;
          if (char === '"') {
            return { ok: false, line, fieldIndex: fields.length, message: 'quote inside an unquoted field (quote the whole field and double the quote)' };
          }
          position += 1;
        }
        field = text.slice(start, position);
      }
      fields.push(field);
      const separator = text[position];
      if (separator === ',') {
        position += 1;
        continue;
      }
      if (separator === '\r') position += text[position + 1] === '\n' ? 2 : 1;
      else if (separator === '\n') position += 1;
      if (separator !== undefined) line += 1;
      break;
    }
    records.push({ line: recordLine, fields });
  }
  return { ok: true, records };
}
