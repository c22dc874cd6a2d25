/** User part of a SIP/tel URI (the dialled number), or undefined. */
export function userOf(uri: string): string | undefined {
  const m = /^(?:sips?:([^@;?]+)@|tel:([^;?]+))/i.exec(uri);
  const user = m?.[1] ?? m?.[2];
  if (user === undefined) return undefined;
  try {
    return decodeURIComponent(user);
  } catch {
    return undefined;
  } // a malformed escape: no usable number
}
