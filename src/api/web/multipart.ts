/**
 * A small multipart/form-data reader for the tariff upload form: text fields and one file, all
 * read as UTF-8 text (a rate deck is CSV). Enough for this one form; nothing streams.
 */
export function parseMultipart(body: Buffer, contentType: string): Record<string, string> | undefined {
  const m = /boundary=(?:"([^"]{1,70})"|([^;\s]{1,70}))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  const out: Record<string, string> = {};
  let pos = body.indexOf(delimiter);
  while (pos !== -1) {
    const start = pos + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    const part = body.subarray(start + 2, next - 2); // skip CRLF after the delimiter and before the next
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd !== -1) {
      const headers = part.subarray(0, headerEnd).toString('utf8');
      const name = /content-disposition:[^\r\n]*\bname="([^"]{1,100})"/i.exec(headers)?.[1];
      if (name && !(name in out)) out[name] = part.subarray(headerEnd + 4).toString('utf8');
    }
    pos = next;
  }
  return out;
}
