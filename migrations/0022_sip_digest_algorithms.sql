-- A device's digest challenge, set per SIP username by the operator or the customer: 'MD5' (MD5
-- alone) or 'SHA-256,MD5' (SHA-256 first, then MD5). Null: automatic (SHA-256 first once the device
-- has answered it, or when its User-Agent is in SIP_DIGEST_SHA256_USER_AGENTS; else MD5 alone).
alter table sip_credentials add column if not exists digest_algorithms text
  check (digest_algorithms in ('MD5', 'SHA-256,MD5'));
