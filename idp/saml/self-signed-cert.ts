import { createPublicKey, randomBytes, sign, type KeyObject } from "node:crypto";

/**
 * A self-signed X.509 certificate for the development SAML IdP's key: SAML metadata names signing
 * keys by certificate, and Node can read certificates but not make them. DER by hand, a dozen
 * lines of ASN.1 (RFC 5280, 4.1), rather than a dependency for a development-only key.
 */
export function selfSignedCert(privateKey: KeyObject, commonName: string, days: number, now = new Date()): string {
  const algorithm = seq(oid([1, 2, 840, 113549, 1, 1, 11]), Buffer.from([0x05, 0x00])); // sha256WithRSAEncryption
  const name = seq(tlv(0x31, seq(oid([2, 5, 4, 3]), tlv(0x0c, Buffer.from(commonName, "utf8")))));
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // positive
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))), // v3
    integer(serial),
    algorithm,
    name,
    seq(utcTime(now), utcTime(new Date(now.getTime() + days * 86_400_000))),
    name,
    createPublicKey(privateKey).export({ type: "spki", format: "der" }),
  );
  const signature = sign("sha256", tbs, privateKey);
  const der = seq(tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  return `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END CERTIFICATE-----\n`;
}

function tlv(tag: number, body: Buffer): Buffer {
  const n = body.length;
  const length = n < 0x80 ? Buffer.from([n]) : lengthBytes(n);
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

function lengthBytes(n: number): Buffer {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function seq(...parts: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(parts));
}

function integer(value: Buffer): Buffer {
  return tlv(0x02, value[0] & 0x80 ? Buffer.concat([Buffer.from([0]), value]) : value);
}

function oid(arcs: number[]): Buffer {
  const bytes = [40 * arcs[0] + arcs[1]];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [];
    for (let v = arc; ; v = Math.floor(v / 128)) {
      chunk.unshift((v & 0x7f) | (chunk.length ? 0x80 : 0));
      if (v < 128) break;
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime, YYMMDDHHMMSSZ: valid to 2049, far beyond a development certificate's life. */
function utcTime(date: Date): Buffer {
  const iso = date.toISOString();
  return tlv(0x17, Buffer.from(`${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`));
}
