/**
 * RFC 4180 CSV, reader and writer as exact mirrors of each other.
 *
 * The reader is strict and remembers the line each record starts on. Records end at LF, CRLF or
 * CR; fields may be quoted ("" is a quote inside a quoted field) and quoted fields may span
 * lines. Lines that are completely empty are skipped. A leading byte-order mark is ignored.
 * The writer quotes exactly the fields holding a character the reader treats specially
 * (comma, quote, CR, LF) and ends every record with LF.
 *
 * Kept here rather than taken from csv-parse / csv-stringify because error messages must name
 * the exact line (csv-parse counts a CRLF inside a quoted field as two lines) and because
 * csv-stringify leaves a lone CR unquoted when the record delimiter is set explicitly, which
 * this reader (like most) takes as a line end.
 */

export interface CsvRecord {
  /** 1-based line on which the record starts. */
  line: number;
  fields: string[];
}

export type CsvRead = { ok: true; records: CsvRecord[] } | { ok: false; line: number; fieldIndex: number; message: string };

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

const NEEDS_QUOTES = /[",\r\n]/;

/** Writes records as CSV text, one LF-terminated line per record (more where a field holds a line end). */
export function writeCsv(records: readonly (readonly string[])[]): string {
  let text = '';
  for (const fields of records) {
    text += fields.map((field) => (NEEDS_QUOTES.test(field) ? `"${field.replaceAll('"', '""')}"` : field)).join(',');
    text += '\n';
  }
  return text;
}
